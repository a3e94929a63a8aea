package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// KeyLine returns the line of the key path (as Validate names keys:
// "correlate.rules[0].matchers[1]", "auth.tokens[2].token_env") in the YAML
// document root. When the path is not in the document (a required key that
// is missing), it returns the line of the longest prefix that is, and exact
// is false. ok is false when not even the first element is present.
func KeyLine(root *yaml.Node, path string) (line int, exact, ok bool) {
	n := docRoot(root)
	if n == nil {
		return 0, false, false
	}
	steps, err := splitKeyPath(path)
	if err != nil || len(steps) == 0 {
		return 0, false, false
	}
	for i, s := range steps {
		next, at := child(n, s)
		if next == nil {
			return line, false, i > 0
		}
		n, line = next, at
	}
	return line, true, true
}

// keyStep is one element of a key path: a mapping key, or a bracketed
// sequence index or map key ("rules[0]", "policies[P1]").
type keyStep struct {
	key   string
	index int // -1 for a key
}

var keyPathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\[[^\[\]\s]+\])*(\.[^.\[\]\s:]+(\[[^\[\]\s]+\])*)*$`)

// splitKeyPath splits "a.b[1].c[P1]" into a, b, [1], c, [P1].
func splitKeyPath(path string) ([]keyStep, error) {
	if !keyPathRE.MatchString(path) {
		return nil, fmt.Errorf("not a key path: %q", path)
	}
	var steps []keyStep
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		steps = append(steps, keyStep{key: name, index: -1})
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 {
				i = -1
			}
			steps = append(steps, keyStep{key: idx, index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return steps, nil
}

// docRoot unwraps a document node and aliases.
func docRoot(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) > 0:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode:
			return nil
		default:
			return n
		}
	}
	return nil
}

// child returns the value node for one step and the line that names it
// (the key's line for a mapping, the item's line for a sequence).
func child(n *yaml.Node, s keyStep) (*yaml.Node, int) {
	n = docRoot(n)
	if n == nil {
		return nil, 0
	}
	if n.Kind == yaml.SequenceNode {
		if s.index < 0 || s.index >= len(n.Content) {
			return nil, 0
		}
		item := n.Content[s.index]
		return item, item.Line
	}
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == s.key {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}

// leadingKey returns the key path an error message starts with
// ("correlate.rules[0].name: is required" -> "correlate.rules[0].name").
func leadingKey(msg string) string {
	key, _, ok := strings.Cut(msg, ": ")
	if !ok || !keyPathRE.MatchString(key) {
		return ""
	}
	return key
}

// withLine prefixes a Validate error with the line of the key it names.
func withLine(root *yaml.Node, err error) error {
	key := leadingKey(err.Error())
	if key == "" {
		return err
	}
	// A key that is missing (a required one) gets the line of the entry
	// it belongs in.
	line, _, ok := KeyLine(root, key)
	if !ok {
		return err
	}
	return fmt.Errorf("line %d: %w", line, err)
}

// locateDecodeError walks the document alongside the Go type t (as yaml.v3
// would decode it) and returns an error naming the first offending key and
// its line: an unknown key, or a value its field type rejects. yaml.v3's own
// errors name only the line, or nothing at all for the errors of custom
// unmarshalers. It returns nil when it finds nothing wrong.
func locateDecodeError(root *yaml.Node, t reflect.Type) error {
	n := docRoot(root)
	if n == nil {
		return nil
	}
	return locate(n, t, "")
}

var (
	unmarshalerType         = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshalerType = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
)

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func locate(n *yaml.Node, t reflect.Type, path string) error {
	n = docRoot(n)
	if n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		if n.Tag == "!!null" {
			return nil
		}
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	custom := pt.Implements(unmarshalerType) || pt.Implements(obsoleteUnmarshalerType)
	switch {
	case !custom && t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue // merge key: checked where it is defined
			}
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: %s: unknown key", k.Line, joinKey(path, k.Value))
			}
			if err := locate(v, ft, joinKey(path, k.Value)); err != nil {
				return err
			}
		}
		return nil
	case !custom && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			if err := locate(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case !custom && t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if err := locate(k, t.Key(), joinKey(path, k.Value)); err != nil {
				return err
			}
			if err := locate(v, t.Elem(), joinKey(path, k.Value)); err != nil {
				return err
			}
		}
		return nil
	}
	// A leaf, a value with its own unmarshaler, or a kind mismatch
	// (a scalar where a mapping belongs): decode it alone.
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		if path == "" {
			path = "(top level)"
		}
		return fmt.Errorf("line %d: %s: %s", n.Line, path, cleanYAMLError(err))
	}
	return nil
}

// yamlFields maps the YAML keys of struct type t to their field types,
// following yaml.v3's rules (lower-cased field name by default, "-" skips,
// ",inline" embeds).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue // unexported
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors:\n  line N: "
// framing, keeping the message.
func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			if _, rest, ok := strings.Cut(m, ": "); ok && strings.HasPrefix(m, "line ") {
				m = rest
			}
			msgs[i] = m
		}
		return strings.Join(msgs, "; ")
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(msg, "line ") {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest
		}
	}
	return msg
}
