package visquery

import (
	"cmp"
	"strings"

	workflowpb "go.temporal.io/api/workflow/v1"
)

type node interface {
	eval(r *row) bool
}

type orNode struct{ l, r node }
type andNode struct{ l, r node }
type notNode struct{ x node }

func (n *orNode) eval(r *row) bool  { return n.l.eval(r) || n.r.eval(r) }
func (n *andNode) eval(r *row) bool { return n.l.eval(r) && n.r.eval(r) }
func (n *notNode) eval(r *row) bool { return !n.x.eval(r) }

// row is one execution being matched; custom attributes are decoded once.
type row struct {
	info   *workflowpb.WorkflowExecutionInfo
	custom map[string][]value
}

// values returns f's values in the row (several for a KeywordList), or
// false when it is missing.
func (r *row) values(f field) ([]value, bool) {
	if f.get != nil {
		v, ok := f.get(r.info)
		return []value{v}, ok
	}
	if r.custom == nil {
		r.custom = map[string][]value{}
	}
	if vs, seen := r.custom[f.name]; seen {
		return vs, vs != nil
	}
	vs, ok := customValues(r.info.GetSearchAttributes().GetIndexedFields()[f.name])
	if !ok {
		vs = nil
	}
	r.custom[f.name] = vs
	return vs, ok
}

// predNode is one comparison: field op literal(s).
type predNode struct {
	f    field
	op   string // = != < > <= >= IN BETWEEN STARTS_WITH "IS NULL" "IS NOT NULL"
	lits []value
	not  bool // NOT IN, NOT BETWEEN, NOT STARTS_WITH
}

func (n *predNode) eval(r *row) bool {
	vs, ok := r.values(n.f)
	switch n.op {
	case "IS NULL":
		return !ok
	case "IS NOT NULL":
		return ok
	}
	if !ok {
		return false // a comparison with NULL is never true
	}
	if n.op == "!=" {
		// != on a list means no element equals.
		return !anyOf(vs, func(v value) bool { return eq(v, n.lits[0]) })
	}
	hit := anyOf(vs, n.test)
	if n.not {
		return !hit
	}
	return hit
}

func anyOf(vs []value, f func(value) bool) bool {
	for _, v := range vs {
		if f(v) {
			return true
		}
	}
	return false
}

// test applies the (positive) operator to one value.
func (n *predNode) test(v value) bool {
	switch n.op {
	case "=":
		return eq(v, n.lits[0])
	case "IN":
		return anyOf(n.lits, func(l value) bool { return eq(v, l) })
	case "BETWEEN":
		lo, ok1 := compare(v, n.lits[0])
		hi, ok2 := compare(v, n.lits[1])
		return ok1 && ok2 && lo >= 0 && hi <= 0
	case "STARTS_WITH":
		return v.k == vString && strings.HasPrefix(v.s, n.lits[0].s)
	}
	c, ok := compare(v, n.lits[0])
	if !ok {
		return false
	}
	switch n.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// eq: equality; a Text value equals a literal whose words it all contains
// (case-insensitive), as Temporal's full-text match does.
func eq(v, lit value) bool {
	if v.k == vString && v.text && lit.k == vString {
		words := strings.Fields(strings.ToLower(v.s))
		for _, w := range strings.Fields(strings.ToLower(lit.s)) {
			found := false
			for _, x := range words {
				found = found || x == w
			}
			if !found {
				return false
			}
		}
		return true
	}
	c, ok := compare(v, lit)
	return ok && c == 0
}

// compare orders a value against a literal of a compatible type; false when
// the types do not compare (a string against a number, say).
func compare(v, lit value) (int, bool) {
	switch v.k {
	case vString:
		if lit.k == vString {
			return strings.Compare(v.s, lit.s), true
		}
	case vTime:
		switch {
		case lit.k == vTime:
			return cmp.Compare(v.i, lit.i), true
		case lit.k == vString && lit.hasT:
			return cmp.Compare(v.i, lit.t), true
		case lit.k == vInt:
			return cmp.Compare(v.i, lit.i), true
		}
	case vInt:
		switch lit.k {
		case vInt:
			return cmp.Compare(v.i, lit.i), true
		case vFloat:
			return cmp.Compare(float64(v.i), lit.f), true
		}
	case vFloat:
		switch lit.k {
		case vInt:
			return cmp.Compare(v.f, float64(lit.i)), true
		case vFloat:
			return cmp.Compare(v.f, lit.f), true
		}
	case vBool:
		b, ok := lit.b, lit.k == vBool
		if lit.k == vString && (strings.EqualFold(lit.s, "true") || strings.EqualFold(lit.s, "false")) {
			b, ok = strings.EqualFold(lit.s, "true"), true
		}
		if ok {
			return cmp.Compare(btoi(v.b), btoi(b)), true
		}
	}
	return 0, false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
