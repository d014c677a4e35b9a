package visquery

import (
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// parser is a recursive-descent parser over the token list:
//
//	query     = [ or ] [ "GROUP" "BY" name ] [ "ORDER" "BY" name [ "ASC" | "DESC" ] ]
//	or        = and { "OR" and }
//	and       = not { "AND" not }
//	not       = "NOT" not | "(" or ")" | predicate
//	predicate = name ( op literal | ["NOT"] "IN" "(" literal { "," literal } ")"
//	            | ["NOT"] "BETWEEN" literal "AND" literal
//	            | ["NOT"] "STARTS_WITH" literal | "IS" ["NOT"] "NULL" )
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

// accept consumes the keyword kw if it is next.
func (p *parser) accept(kw string) bool {
	if p.peek().is(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kw string) error {
	if !p.accept(kw) {
		t := p.peek()
		return errAt(t.pos, "expected %s, found %s", kw, t)
	}
	return nil
}

func (p *parser) query() (*Query, error) {
	q := &Query{}
	if t := p.peek(); t.kind != tkEOF && !t.is("ORDER") && !t.is("GROUP") {
		where, err := p.or()
		if err != nil {
			return nil, err
		}
		q.where = where
	}
	if p.accept("GROUP") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		t := p.next()
		if t.kind != tkIdent || t.text != "ExecutionStatus" {
			return nil, errAt(t.pos, "GROUP BY supports only ExecutionStatus, found %s", t)
		}
		q.GroupBy = t.text
	}
	if p.accept("ORDER") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		t := p.next()
		if t.kind != tkIdent || t.text != "StartTime" {
			return nil, errAt(t.pos, "ORDER BY supports only StartTime, found %s", t)
		}
		switch {
		case p.accept("ASC"):
			q.Asc = true
		case p.accept("DESC"):
		}
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, errAt(t.pos, "unexpected %s (expected AND, OR, ORDER BY or the end of the query)", t)
	}
	return q, nil
}

func (p *parser) or() (node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.accept("OR") {
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &orNode{left, right}
	}
	return left, nil
}

func (p *parser) and() (node, error) {
	left, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.accept("AND") {
		right, err := p.not()
		if err != nil {
			return nil, err
		}
		left = &andNode{left, right}
	}
	return left, nil
}

func (p *parser) not() (node, error) {
	if p.accept("NOT") {
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	}
	if t := p.peek(); t.kind == tkLParen {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tkRParen {
			return nil, errAt(c.pos, "expected ')' to close the '(' at position %d, found %s", t.pos, c)
		}
		return x, nil
	}
	return p.predicate()
}

var reserved = []string{"AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "ORDER", "BY", "GROUP", "STARTS_WITH", "ASC", "DESC", "TRUE", "FALSE"}

func isReserved(t token) bool {
	for _, kw := range reserved {
		if t.is(kw) {
			return true
		}
	}
	return false
}

func (p *parser) predicate() (node, error) {
	t := p.next()
	if t.kind != tkIdent || isReserved(t) {
		return nil, errAt(t.pos, "expected a search attribute name, found %s", t)
	}
	f, ok := systemFields[t.text]
	if !ok {
		f = field{name: t.text, kind: fkCustom}
	}
	pr := &predNode{f: f}
	opTok := p.peek()
	switch {
	case opTok.kind == tkOp:
		p.next()
		pr.op = opTok.text
		lit, err := p.literal(f)
		if err != nil {
			return nil, err
		}
		pr.lits = []value{lit}
		if f.kind == fkStatus && pr.op != "=" && pr.op != "!=" {
			return nil, errAt(opTok.pos, "operator %s is not supported for %s (use =, !=, IN)", pr.op, f.name)
		}
		return pr, nil
	case opTok.is("IS"):
		p.next()
		pr.op = "IS NULL"
		if p.accept("NOT") {
			pr.op = "IS NOT NULL"
		}
		if err := p.expect("NULL"); err != nil {
			return nil, err
		}
		return pr, nil
	}
	negate := p.accept("NOT")
	op := p.next()
	switch {
	case op.is("IN"):
		pr.op = "IN"
		if c := p.next(); c.kind != tkLParen {
			return nil, errAt(c.pos, "expected '(' after IN, found %s", c)
		}
		for {
			lit, err := p.literal(f)
			if err != nil {
				return nil, err
			}
			pr.lits = append(pr.lits, lit)
			c := p.next()
			if c.kind == tkRParen {
				break
			}
			if c.kind != tkComma {
				return nil, errAt(c.pos, "expected ',' or ')' in the IN list, found %s", c)
			}
		}
	case op.is("BETWEEN"):
		pr.op = "BETWEEN"
		lo, err := p.literal(f)
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.literal(f)
		if err != nil {
			return nil, err
		}
		pr.lits = []value{lo, hi}
		if f.kind == fkStatus {
			return nil, errAt(op.pos, "BETWEEN is not supported for %s", f.name)
		}
	case op.is("STARTS_WITH"):
		pr.op = "STARTS_WITH"
		if f.kind != fkKeyword && f.kind != fkCustom {
			return nil, errAt(op.pos, "STARTS_WITH is not supported for %s (a keyword attribute is needed)", f.name)
		}
		lit, err := p.literal(f)
		if err != nil {
			return nil, err
		}
		if lit.k != vString {
			return nil, errAt(p.toks[p.i-1].pos, "STARTS_WITH needs a string")
		}
		pr.lits = []value{lit}
	default:
		if negate {
			return nil, errAt(op.pos, "expected IN, BETWEEN or STARTS_WITH after NOT, found %s", op)
		}
		return nil, errAt(op.pos, "expected an operator (=, !=, <, >, <=, >=, IN, BETWEEN, STARTS_WITH, IS) after %s, found %s", t.text, op)
	}
	pr.not = negate
	return pr, nil
}

// literal reads one value for field f, typed by f's kind.
func (p *parser) literal(f field) (value, error) {
	t := p.next()
	switch f.kind {
	case fkKeyword:
		if t.kind != tkString {
			return value{}, errAt(t.pos, "%s needs a quoted string, found %s", f.name, t)
		}
		return value{k: vString, s: t.text}, nil
	case fkStatus:
		if t.kind == tkNumber {
			n, err := strconv.ParseInt(t.text, 10, 32)
			if err == nil {
				if _, ok := enumspb.WorkflowExecutionStatus_name[int32(n)]; ok {
					return value{k: vInt, i: n}, nil
				}
			}
		}
		if t.kind == tkString {
			if st, ok := parseStatus(t.text); ok {
				return value{k: vInt, i: int64(st)}, nil
			}
		}
		return value{}, errAt(t.pos, "invalid ExecutionStatus %s (one of 'Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut')", t)
	case fkTime:
		switch t.kind {
		case tkString:
			if n, ok := parseTime(t.text); ok {
				return value{k: vTime, i: n}, nil
			}
		case tkNumber:
			if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
				return value{k: vTime, i: n}, nil
			}
		}
		return value{}, errAt(t.pos, "invalid time %s for %s: want RFC 3339, e.g. '2024-01-02T15:04:05Z'", t, f.name)
	case fkInt:
		if t.kind == tkNumber {
			if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
				return value{k: vInt, i: n}, nil
			}
		}
		return value{}, errAt(t.pos, "%s needs an integer, found %s", f.name, t)
	case fkDuration:
		switch t.kind {
		case tkNumber:
			if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
				return value{k: vInt, i: n}, nil
			}
		case tkString:
			if d, err := time.ParseDuration(t.text); err == nil {
				return value{k: vInt, i: int64(d)}, nil
			}
		}
		return value{}, errAt(t.pos, "%s needs a duration ('90s', '1h') or integer nanoseconds, found %s", f.name, t)
	}
	// A custom attribute: the literal keeps its own type; it is compared
	// with the stored value's.
	switch {
	case t.kind == tkString:
		v := value{k: vString, s: t.text}
		v.t, v.hasT = parseTime(t.text)
		return v, nil
	case t.kind == tkNumber:
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return value{k: vInt, i: n, f: float64(n)}, nil
		}
		if x, err := strconv.ParseFloat(t.text, 64); err == nil {
			return value{k: vFloat, f: x}, nil
		}
		return value{}, errAt(t.pos, "invalid number %s", t)
	case t.is("TRUE"), t.is("FALSE"):
		return value{k: vBool, b: t.is("TRUE")}, nil
	}
	return value{}, errAt(t.pos, "expected a value (a quoted string, a number, true or false), found %s", t)
}

// parseStatus reads 'Running', 'WORKFLOW_EXECUTION_STATUS_RUNNING' or
// 'running'.
func parseStatus(s string) (enumspb.WorkflowExecutionStatus, bool) {
	if st, err := enumspb.WorkflowExecutionStatusFromString(s); err == nil && st != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		return st, true
	}
	for name, v := range enumspb.WorkflowExecutionStatus_value {
		short := strings.ReplaceAll(strings.TrimPrefix(name, "WORKFLOW_EXECUTION_STATUS_"), "_", "")
		if v != 0 && strings.EqualFold(short, strings.ReplaceAll(s, "_", "")) {
			return enumspb.WorkflowExecutionStatus(v), true
		}
	}
	return 0, false
}
