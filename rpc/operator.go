package rpc

import (
	"context"
	"maps"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"

	"github.com/raftflow/engine/rpc/visquery"
)

// operator serves the one OperatorService method the Web UI needs on every
// page; the rest of the service (registering search attributes, remote
// clusters, Nexus endpoints) is Unimplemented: raftflow needs no search
// attribute registration and has no multi-cluster replication.
type operator struct {
	operatorservice.UnimplementedOperatorServiceServer
	s *Service
}

// ListSearchAttributes splits GetSearchAttributes' answer into system
// attributes and the custom ones workflows have used.
func (o operator) ListSearchAttributes(ctx context.Context, req *operatorservice.ListSearchAttributesRequest) (*operatorservice.ListSearchAttributesResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if req.Namespace != "" {
		if err := o.s.checkNamespace(req.Namespace); err != nil {
			return nil, err
		}
	}
	system := map[string]enumspb.IndexedValueType{}
	maps.Copy(system, extraSystemAttributes)
	maps.Copy(system, visquery.SystemSearchAttributes())
	custom := map[string]enumspb.IndexedValueType{}
	for k, v := range o.s.fsm.SearchAttributeTypes() {
		if _, sys := system[k]; !sys {
			custom[k] = v
		}
	}
	return &operatorservice.ListSearchAttributesResponse{SystemAttributes: system, CustomAttributes: custom}, nil
}
