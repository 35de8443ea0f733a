package topology

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The decoder below reads the YAML syntax tree itself, rather than using a
// library's Unmarshal, because Unmarshal stops at the first problem and
// forgets where each value came from; a topology check must report every
// problem with its line.

type nodeKind int

const (
	nullNode nodeKind = iota
	scalarNode
	mappingNode
	sequenceNode
)

// node is a YAML value with its line, after anchors, aliases, tags and
// merge keys have been resolved.
type node struct {
	kind nodeKind
	line int
	// text is a scalar's value; scalar tells what YAML made of it.
	text   string
	scalar ast.NodeType
	pairs  []pair
	items  []*node
}

type pair struct {
	key   *node
	value *node
}

// parseYAML reads the one document in data. Syntax errors end the parse, so
// they come back as a single problem.
func parseYAML(data []byte, ps *problems) *node {
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		var se interface {
			GetToken() *token.Token
			GetMessage() string
		}
		if errors.As(err, &se) {
			ps.add(tokenLine(se.GetToken()), "", "YAML syntax: %s", se.GetMessage())
		} else {
			ps.add(0, "", "YAML syntax: %v", err)
		}
		return nil
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		ps.add(0, "", "the file is empty")
		return nil
	}
	if len(docs) > 1 {
		ps.add(firstLine(docs[1].Body), "",
			"the file holds %d YAML documents; a topology is one", len(docs))
	}
	c := converter{anchors: map[string]*node{}, ps: ps}
	return c.convert(docs[0].Body)
}

func tokenLine(t *token.Token) int {
	if t == nil {
		return 0
	}
	return t.Position.Line
}

func firstLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	return tokenLine(n.GetToken())
}

type converter struct {
	anchors map[string]*node
	ps      *problems
}

func (c *converter) convert(n ast.Node) *node {
	switch n := n.(type) {
	case nil:
		return &node{kind: nullNode}
	case *ast.NullNode:
		return &node{kind: nullNode, line: tokenLine(n.Token)}
	case *ast.StringNode:
		return &node{kind: scalarNode, line: tokenLine(n.Token), text: n.Value,
			scalar: ast.StringType}
	case *ast.LiteralNode:
		return &node{kind: scalarNode, line: tokenLine(n.Start), text: n.Value.Value,
			scalar: ast.StringType}
	case *ast.IntegerNode:
		return &node{kind: scalarNode, line: tokenLine(n.Token), text: n.Token.Value,
			scalar: ast.IntegerType}
	case *ast.FloatNode:
		return &node{kind: scalarNode, line: tokenLine(n.Token), text: n.Token.Value,
			scalar: ast.FloatType}
	case *ast.InfinityNode:
		return &node{kind: scalarNode, line: tokenLine(n.Token), text: n.Token.Value,
			scalar: ast.FloatType}
	case *ast.NanNode:
		return &node{kind: scalarNode, line: tokenLine(n.Token), text: n.Token.Value,
			scalar: ast.FloatType}
	case *ast.BoolNode:
		return &node{kind: scalarNode, line: tokenLine(n.Token),
			text: strconv.FormatBool(n.Value), scalar: ast.BoolType}
	case *ast.MappingNode:
		return c.mapping(n.Values, tokenLine(n.Start))
	case *ast.MappingValueNode:
		return c.mapping([]*ast.MappingValueNode{n}, firstLine(n.Key))
	case *ast.MappingKeyNode:
		return c.convert(n.Value)
	case *ast.SequenceNode:
		out := &node{kind: sequenceNode, line: tokenLine(n.Start)}
		for _, v := range n.Values {
			out.items = append(out.items, c.convert(v))
		}
		return out
	case *ast.AnchorNode:
		v := c.convert(n.Value)
		c.anchors[n.Name.GetToken().Value] = v
		return v
	case *ast.AliasNode:
		name := n.Value.GetToken().Value
		v, ok := c.anchors[name]
		if !ok {
			c.ps.add(tokenLine(n.Start), "", "alias *%s names no anchor defined before it", name)
			return &node{kind: nullNode, line: tokenLine(n.Start)}
		}
		return v
	case *ast.TagNode:
		v := c.convert(n.Value)
		if v.kind == scalarNode && n.Start.Value == "!!str" {
			copied := *v
			copied.scalar = ast.StringType
			return &copied
		}
		return v
	default:
		c.ps.add(firstLine(n), "", "unsupported YAML construct %s", n.Type())
		return &node{kind: nullNode, line: firstLine(n)}
	}
}

// mapping converts key/value pairs, expanding merge keys (<<) so that the
// mapping's own keys win over merged ones.
func (c *converter) mapping(values []*ast.MappingValueNode, line int) *node {
	out := &node{kind: mappingNode, line: line}
	var merged []pair
	for _, mv := range values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			merged = append(merged, c.mergeSource(c.convert(mv.Value), firstLine(mv.Key))...)
			continue
		}
		out.pairs = append(out.pairs, pair{key: c.convert(mv.Key), value: c.convert(mv.Value)})
	}
	if len(values) > 0 && values[0].Key != nil {
		out.line = firstLine(values[0].Key)
	}
	for _, m := range merged {
		if out.lookup(m.key.text) == nil {
			out.pairs = append(out.pairs, m)
		}
	}
	return out
}

func (c *converter) mergeSource(n *node, line int) []pair {
	switch n.kind {
	case mappingNode:
		return n.pairs
	case sequenceNode:
		var out []pair
		for _, item := range n.items {
			out = append(out, c.mergeSource(item, line)...)
		}
		return out
	default:
		c.ps.add(line, "", "a merge key (<<) takes a mapping or a list of mappings")
		return nil
	}
}

func (n *node) lookup(key string) *node {
	for _, p := range n.pairs {
		if p.key.kind == scalarNode && p.key.text == key {
			return p.value
		}
	}
	return nil
}

func (k nodeKind) String() string {
	switch k {
	case scalarNode:
		return "a single value"
	case mappingNode:
		return "a mapping"
	case sequenceNode:
		return "a list"
	default:
		return "empty"
	}
}

// decoder fills Go values from nodes, by the yaml tags of struct fields,
// recording the line of every value it sets and a problem for everything
// it cannot set.
type decoder struct {
	ps *problems
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (d *decoder) decode(n *node, path string, v reflect.Value) {
	if n.kind == nullNode {
		return
	}
	d.ps.lines[path] = n.line
	d.ps.set[path] = true

	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		if n.kind != scalarNode {
			d.ps.undecodable(n.line, path, "must be a single value, not %s", n.kind)
			return
		}
		u := v.Addr().Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(n.text)); err != nil {
			d.ps.undecodable(n.line, path, "%v", err)
		}
		return
	}

	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, path, v.Elem())
	case reflect.Struct:
		d.decodeStruct(n, path, v)
	case reflect.Slice:
		if n.kind != sequenceNode {
			d.ps.undecodable(n.line, path, "must be a list, not %s", n.kind)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
		for i, item := range n.items {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, path, v)
	case reflect.String:
		if n.kind != scalarNode {
			d.ps.undecodable(n.line, path, "must be a single value, not %s", n.kind)
			return
		}
		v.SetString(n.text)
	case reflect.Int32, reflect.Int64:
		if n.kind != scalarNode || n.scalar != ast.IntegerType {
			d.ps.undecodable(n.line, path, "must be a whole number, not %s", describe(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.text, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.ps.undecodable(n.line, path, "%s is out of range", n.text)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if n.kind != scalarNode || (n.scalar != ast.IntegerType && n.scalar != ast.FloatType) {
			d.ps.undecodable(n.line, path, "must be a number, not %s", describe(n))
			return
		}
		f, err := strconv.ParseFloat(n.text, 64)
		if err != nil {
			d.ps.undecodable(n.line, path, "must be a number, not %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if n.kind != scalarNode || n.scalar != ast.BoolType {
			d.ps.undecodable(n.line, path, "must be true or false, not %s", describe(n))
			return
		}
		v.SetBool(n.text == "true")
	default:
		panic(fmt.Sprintf("topology: no decoding for %s at %s", v.Type(), path))
	}
}

func describe(n *node) string {
	if n.kind == scalarNode {
		return strconv.Quote(n.text)
	}
	return n.kind.String()
}

// keyOK reports whether a key can follow a dot in a field path as it is.
var keyOK = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func childPath(path, key string) string {
	if !keyOK.MatchString(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// mappingKeys checks that n is a mapping of distinct single-value keys and
// returns its usable pairs.
func (d *decoder) mappingKeys(n *node, path string) []pair {
	if n.kind != mappingNode {
		d.ps.undecodable(n.line, path, "must be a mapping of keys to values, not %s", describe(n))
		return nil
	}
	seen := map[string]int{}
	var out []pair
	for _, p := range n.pairs {
		if p.key.kind != scalarNode {
			d.ps.add(p.key.line, path, "a key must be a single value, not %s", p.key.kind)
			continue
		}
		if first, dup := seen[p.key.text]; dup {
			d.ps.add(p.key.line, childPath(path, p.key.text),
				"duplicate key; it is first set on line %d", first)
			continue
		}
		seen[p.key.text] = p.key.line
		out = append(out, p)
	}
	return out
}

func (d *decoder) decodeStruct(n *node, path string, v reflect.Value) {
	fields := yamlFields(v.Type())
	for _, p := range d.mappingKeys(n, path) {
		key := p.key.text
		child := childPath(path, key)
		i, ok := fields[key]
		if !ok {
			d.ps.add(p.key.line, child, "unknown key%s", suggest(key, fields))
			continue
		}
		d.decode(p.value, child, v.Field(i))
		// A value written below its key is reported where the key is.
		d.ps.lines[child] = p.key.line
	}
}

func (d *decoder) decodeMap(n *node, path string, v reflect.Value) {
	pairs := d.mappingKeys(n, path)
	if pairs == nil && n.kind != mappingNode {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(pairs))
	for _, p := range pairs {
		child := childPath(path, p.key.text)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.value, child, elem)
		d.ps.lines[child] = p.key.line
		m.SetMapIndex(reflect.ValueOf(p.key.text), elem)
	}
	v.Set(m)
}

// yamlFields maps each yaml key of a struct to its field index.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}

// suggest names the known key closest to a misspelt one.
func suggest(key string, fields map[string]int) string {
	best, bestDist := "", 3
	for f := range fields {
		dist := editDistance(strings.ToLower(key), strings.ToLower(f))
		if dist < bestDist || (dist == bestDist && f < best) {
			best, bestDist = f, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
