package visquery

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tkEOF tokKind = iota
	tkIdent
	tkString
	tkNumber
	tkOp     // = != <> < > <= >=
	tkLParen // (
	tkRParen // )
	tkComma  // ,
)

type token struct {
	kind tokKind
	text string // identifier name, unquoted string, number text or operator
	pos  int    // byte offset in the query
	// quoted: an identifier written in backquotes (never a keyword).
	quoted bool
}

func (t token) String() string {
	switch t.kind {
	case tkEOF:
		return "end of query"
	case tkString:
		return fmt.Sprintf("'%s'", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// is reports whether t is the keyword kw (case-insensitive).
func (t token) is(kw string) bool {
	return t.kind == tkIdent && !t.quoted && strings.EqualFold(t.text, kw)
}

// lex splits a query into tokens.
func lex(q string) ([]token, error) {
	var out []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{kind: tkLParen, text: "(", pos: i})
			i++
		case c == ')':
			out = append(out, token{kind: tkRParen, text: ")", pos: i})
			i++
		case c == ',':
			out = append(out, token{kind: tkComma, text: ",", pos: i})
			i++
		case c == '=':
			out = append(out, token{kind: tkOp, text: "=", pos: i})
			i++
		case c == '!' || c == '<' || c == '>':
			n := 1
			if i+1 < len(q) && (q[i+1] == '=' || (c == '<' && q[i+1] == '>')) {
				n = 2
			}
			op := q[i : i+n]
			switch op {
			case "!":
				return nil, errAt(i, "unexpected '!' (did you mean '!='?)")
			case "<>":
				op = "!="
			}
			out = append(out, token{kind: tkOp, text: op, pos: i})
			i += n
		case c == '\'' || c == '"':
			s, n, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tkString, text: s, pos: i})
			i += n
		case c == '`':
			end := strings.IndexByte(q[i+1:], '`')
			if end < 0 {
				return nil, errAt(i, "unterminated `quoted` name")
			}
			if end == 0 {
				return nil, errAt(i, "empty `quoted` name")
			}
			out = append(out, token{kind: tkIdent, text: q[i+1 : i+1+end], pos: i, quoted: true})
			i += end + 2
		case c == '-' || c == '+' || c == '.' || isDigit(c):
			j := i + 1
			for j < len(q) && (isDigit(q[j]) || q[j] == '.' || q[j] == 'e' || q[j] == 'E' ||
				((q[j] == '-' || q[j] == '+') && (q[j-1] == 'e' || q[j-1] == 'E'))) {
				j++
			}
			if j == i+1 && !isDigit(c) {
				return nil, errAt(i, "unexpected %q", string(c))
			}
			out = append(out, token{kind: tkNumber, text: q[i:j], pos: i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			out = append(out, token{kind: tkIdent, text: q[i:j], pos: i})
			i = j
		default:
			return nil, errAt(i, "unexpected character %q", string(c))
		}
	}
	return append(out, token{kind: tkEOF, pos: len(q)}), nil
}

// lexString reads a quoted string starting at q[i]: the quote character is
// escaped by doubling it or by a backslash. It returns the unquoted text and
// the number of bytes consumed.
func lexString(q string, i int) (string, int, error) {
	quote := q[i]
	var b strings.Builder
	j := i + 1
	for j < len(q) {
		c := q[j]
		switch {
		case c == '\\' && j+1 < len(q):
			b.WriteByte(q[j+1])
			j += 2
		case c == quote && j+1 < len(q) && q[j+1] == quote:
			b.WriteByte(quote)
			j += 2
		case c == quote:
			return b.String(), j + 1 - i, nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, errAt(i, "unterminated string")
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
