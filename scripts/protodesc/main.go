// Command protodesc writes a FileDescriptorSet holding the Temporal API proto
// files (as compiled into go.temporal.io/api) so that protoc can compile our
// own .proto files that import them without the Temporal .proto sources.
//
// Usage: go run ./scripts/protodesc OUT.pb
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// Register every Temporal API file our protos import.
	_ "go.temporal.io/api/workflowservice/v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: protodesc OUT.pb")
		os.Exit(2)
	}
	var files []*descriptorpb.FileDescriptorProto
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		p := fd.Path()
		if !strings.HasPrefix(p, "google/protobuf/") {
			files = append(files, protodesc.ToFileDescriptorProto(fd))
		}
		return true
	})
	sort.Slice(files, func(i, j int) bool { return files[i].GetName() < files[j].GetName() })
	b, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: files})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
