package rpc

import (
	"context"
	"maps"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/rpc/visquery"
)

// operator serves the OperatorService methods about search attributes (the
// Web UI lists them on every page; setup scripts register them with
// `temporal operator search-attribute create`); remote clusters and Nexus
// endpoints are Unimplemented: raftflow has no multi-cluster replication.
// Registration is optional here by default: an attribute nobody registered
// is still accepted, its type pinned by its first use; a namespace with
// StrictSearchAttributesKey set refuses it, as Temporal does.
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
	types := o.s.fsm.SearchAttributeTypes
	if req.Namespace != "" {
		types = func() map[string]enumspb.IndexedValueType { return o.s.fsm.SearchAttributeTypesOf(req.Namespace) }
	}
	for k, v := range types() {
		if _, sys := system[k]; !sys {
			custom[k] = v
		}
	}
	return &operatorservice.ListSearchAttributesResponse{SystemAttributes: system, CustomAttributes: custom}, nil
}

// AddSearchAttributes registers custom search attributes for a namespace,
// pinning their types. Temporal's checks and messages: a reserved (system)
// name, an unknown type, an empty request; re-adding a name with its type
// is a no-op; with another type it is refused (Temporal ignores it).
func (o operator) AddSearchAttributes(ctx context.Context, req *operatorservice.AddSearchAttributesRequest) (*operatorservice.AddSearchAttributesResponse, error) {
	if err := o.checkSearchAttributeRequest(req, req.GetNamespace(), len(req.GetSearchAttributes())); err != nil {
		return nil, err
	}
	for name, typ := range req.GetSearchAttributes() {
		if err := checkCustomSearchAttributeName(name); err != nil {
			return nil, err
		}
		if _, ok := enumspb.IndexedValueType_name[int32(typ)]; !ok || typ == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			return nil, invalidArg("Unknown search attribute type: %v.", typ)
		}
	}
	if _, err := o.s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_SearchAttributes{SearchAttributes: &fsmpb.SearchAttributes{
		Namespace: req.Namespace, Add: req.SearchAttributes,
	}}}); err != nil {
		return nil, err
	}
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

// RemoveSearchAttributes unregisters custom search attributes of a
// namespace: their types are no longer pinned (values already stored stay).
func (o operator) RemoveSearchAttributes(ctx context.Context, req *operatorservice.RemoveSearchAttributesRequest) (*operatorservice.RemoveSearchAttributesResponse, error) {
	if err := o.checkSearchAttributeRequest(req, req.GetNamespace(), len(req.GetSearchAttributes())); err != nil {
		return nil, err
	}
	for _, name := range req.GetSearchAttributes() {
		if err := checkCustomSearchAttributeName(name); err != nil {
			return nil, err
		}
	}
	if _, err := o.s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_SearchAttributes{SearchAttributes: &fsmpb.SearchAttributes{
		Namespace: req.Namespace, Remove: req.SearchAttributes,
	}}}); err != nil {
		return nil, err
	}
	return &operatorservice.RemoveSearchAttributesResponse{}, nil
}

// checkSearchAttributeRequest: bounded, a namespace that exists, at least
// one attribute (Temporal's messages).
func (o operator) checkSearchAttributeRequest(req proto.Message, ns string, n int) error {
	if err := bound(req); err != nil {
		return err
	}
	if ns == "" {
		return invalidArg("Namespace is not set on request.")
	}
	if err := o.s.checkNamespace(ns); err != nil {
		return err
	}
	if n == 0 {
		return invalidArg("SearchAttributes are not set on request.")
	}
	return nil
}

// checkCustomSearchAttributeName refuses an empty, overlong or system name.
func checkCustomSearchAttributeName(name string) error {
	if err := checkID("search_attributes", name); err != nil {
		return err
	}
	_, extra := extraSystemAttributes[name]
	if _, sys := visquery.SystemSearchAttributes()[name]; sys || extra {
		return invalidArg("Search attribute %s is reserved by system.", name)
	}
	return nil
}

// AddSearchAttributes registers search attributes in namespace ns as
// OperatorService.AddSearchAttributes does: `engine --dev
// --search-attribute NAME=TYPE` calls it once the node leads.
func (s *Service) AddSearchAttributes(ctx context.Context, ns string, attrs map[string]enumspb.IndexedValueType) error {
	_, err := operator{s: s}.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: attrs})
	return err
}

// DeleteNamespace deletes a namespace as Temporal does: at once it is gone
// for every call (its name refused as not found), and the leader's purger
// then removes its workflows in the background, terminating running ones
// (leader/purge.go), resuming after a leader change. deleted_namespace is
// the name itself: raftflow does not rename it, so the name can be
// registered again once the purge has finished. The default namespace is
// protected.
func (o operator) DeleteNamespace(ctx context.Context, req *operatorservice.DeleteNamespaceRequest) (*operatorservice.DeleteNamespaceResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	ns := req.GetNamespace()
	switch {
	case ns == "" && req.GetNamespaceId() == "":
		return nil, invalidArg("namespace or namespace ID is required")
	case ns != "" && req.GetNamespaceId() != "":
		return nil, invalidArg("only one of namespace or namespace ID must be set")
	case ns == "":
		for _, rec := range o.s.fsm.ListNamespaces() {
			if rec.GetInfo().GetId() == req.GetNamespaceId() {
				ns = rec.GetInfo().GetName()
			}
		}
		if ns == "" {
			return nil, invalidArg("namespace ID %s is not found", req.GetNamespaceId())
		}
	}
	if _, err := o.s.fsm.GetNamespace(ns); err != nil {
		return nil, invalidArg("namespace %s is not found", ns)
	}
	if _, err := o.s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_DeleteNamespace{DeleteNamespace: &fsmpb.DeleteNamespace{Namespace: ns}}}); err != nil {
		return nil, err
	}
	o.s.eng.WakeNamespacePurger()
	return &operatorservice.DeleteNamespaceResponse{DeletedNamespace: ns}, nil
}
