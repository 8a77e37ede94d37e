/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// The API reference is rendered from the CRDs that `make manifests` writes,
// not from the Go types, so it shows what the API server enforces: the
// defaults, enums and CEL messages a user meets at `kubectl apply`. It lives
// in a package of its own, beside api/v1alpha1, because that package's tests
// start an API server and this one needs none.
package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/test/testutil"
)

const (
	apiDoc   = "../docs/api.md"
	crdFiles = "../config/crd/bases/*.yaml"
)

// kindOrder is the order of the kinds in docs/api.md: the one most users
// write first.
var kindOrder = []string{"DirectusSubscription", "DirectusConnection", "ClusterDirectusConnection"}

// upstreamTypes are fields of a type Kubernetes documents (by path below the
// kind): the reference names the type instead of repeating its fields.
var upstreamTypes = map[string]string{
	"status.conditions": "array of [Condition](https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/condition/)" +
		" ([which ones](status.md))",
	"spec.conditions[].namespaceSelector": "[LabelSelector](https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/label-selector/)",
}

// TestTheAPIReferenceIsUpToDate fails when docs/api.md no longer shows the
// CRDs in config/crd/bases: each kind's spec and status fields with their
// types, defaults and the messages of the checks done at apply.
// UPDATE_DOCS=1 rewrites the sections:
//
//	UPDATE_DOCS=1 go test ./api -run TestTheAPIReferenceIsUpToDate
func TestTheAPIReferenceIsUpToDate(t *testing.T) {
	crds := readCRDs(t)
	sections := map[string]string{"kinds": kindTable(crds)}
	seen := map[string]bool{}
	for _, crd := range crds {
		sections[crd.Spec.Names.Kind] = kindReference(t, crd, seen)
	}
	for path := range upstreamTypes {
		if !seen[path] {
			t.Errorf("upstreamTypes names %s, which no CRD has: remove it", path)
		}
	}
	testutil.KeepDocCurrent(t, apiDoc, sections, "go test ./api -run TestTheAPIReferenceIsUpToDate")
}

// TestTheAPIReferenceShowsEveryCheckDoneAtApply holds the reference to the
// README's promise that a wrong spec is refused with a message that says what
// to fix: every CEL message in the CRDs, at any depth, is in docs/api.md.
func TestTheAPIReferenceShowsEveryCheckDoneAtApply(t *testing.T) {
	g := NewWithT(t)
	doc, err := os.ReadFile(apiDoc)
	g.Expect(err).NotTo(HaveOccurred())
	files, err := filepath.Glob(crdFiles)
	g.Expect(err).NotTo(HaveOccurred())
	crds := make([]any, 0, len(files))
	for _, file := range files {
		data, err := os.ReadFile(file)
		g.Expect(err).NotTo(HaveOccurred())
		var crd map[string]any
		g.Expect(yaml.Unmarshal(data, &crd)).To(Succeed())
		crds = append(crds, crd)
	}
	messages := celMessages(crds)
	g.Expect(messages).To(ContainElement(ContainSubstring("auth: set exactly one of token, credentials or public")))
	var missing []string
	for _, m := range messages {
		if !strings.Contains(string(doc), m) {
			missing = append(missing, m)
		}
	}
	g.Expect(missing).To(BeEmpty(), "CEL messages of the CRDs that docs/api.md lacks")
}

func TestAFieldRowShowsWhatTheAPIServerEnforces(t *testing.T) {
	cases := []struct {
		name   string
		schema string
		want   string
	}{
		{"an enum with its default", `{type: string, enum: [handshake, strict], default: handshake, description: "Mode is\nthe mode."}`,
			"| `spec.f` | string, one of `handshake`, `strict` | no | `handshake` | Mode is the mode. |"},
		{"an integer with its format and bounds", `{type: integer, format: int32, minimum: 1, maximum: 6000}`,
			"| `spec.f` | integer (int32), 1 to 6000 | no |  |  |"},
		{"a CEL message, and a | in text", `{type: string, description: "a | b", x-kubernetes-validations: [{rule: "true", message: "f must be a | b"}]}`,
			"| `spec.f` | string | no |  | a \\| b<br>**Checked at apply:** `f must be a \\| b` |"},
		{"a message built by an expression", `{type: string, x-kubernetes-validations: [{rule: "true", messageExpression: "'key ' + self + ': bad'"}]}`,
			"| `spec.f` | string | no |  | <br>**Checked at apply:** `key …: bad` |"},
		{"a map with a check on its values", `{type: object, additionalProperties: {type: string, maxLength: 63, x-kubernetes-validations: [{rule: "true", message: "too long"}]}}`,
			"| `spec.f` | map of string (each at most 63 characters) | no |  | <br>**Checked at apply:** `too long` |"},
		{"fields passed through", `{type: object, x-kubernetes-preserve-unknown-fields: true}`,
			"| `spec.f` | object, passed through as is | no |  |  |"},
		{"markup in a description", `{type: string, description: "Target is ConfigMap/<name>; remove auth.*.namespace, keep a_b and _eq"}`,
			"| `spec.f` | string | no |  | Target is ConfigMap/&lt;name&gt;; remove auth.\\*.namespace, keep a_b and \\_eq |"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s apiextensionsv1.JSONSchemaProps
			NewWithT(t).Expect(yaml.Unmarshal([]byte(c.schema), &s)).To(Succeed())
			NewWithT(t).Expect(fieldRow("spec.f", &s, false)).To(Equal(c.want))
		})
	}
}

func readCRDs(t *testing.T) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	files, err := filepath.Glob(crdFiles)
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s (%v): run make manifests", crdFiles, err)
	}
	crds := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(files))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !slices.Contains(kindOrder, crd.Spec.Names.Kind) {
			t.Fatalf("%s: kind %s is not in kindOrder: give it a place in %s", file, crd.Spec.Names.Kind, apiDoc)
		}
		if len(crd.Spec.Versions) != 1 {
			t.Fatalf("%s: the reference shows one version, the CRD has %d", file, len(crd.Spec.Versions))
		}
		crds = append(crds, crd)
	}
	slices.SortFunc(crds, func(a, b *apiextensionsv1.CustomResourceDefinition) int {
		return slices.Index(kindOrder, a.Spec.Names.Kind) - slices.Index(kindOrder, b.Spec.Names.Kind)
	})
	return crds
}

// kindTable lists the kinds, with how kubectl names them.
func kindTable(crds []*apiextensionsv1.CustomResourceDefinition) string {
	var b strings.Builder
	b.WriteString("| Kind | apiVersion | Scope | Short names | Plural |\n|---|---|---|---|---|\n")
	for _, crd := range crds {
		n := crd.Spec.Names
		fmt.Fprintf(&b, "| [%s](#%s) | `%s/%s` | %s | %s | `%s` |\n", n.Kind, strings.ToLower(n.Kind),
			crd.Spec.Group, crd.Spec.Versions[0].Name, crd.Spec.Scope, codeList(n.ShortNames), n.Plural)
	}
	return b.String()
}

// kindReference is a kind's description and a table each for its spec and
// its status. It records in seen the paths of upstreamTypes it met.
func kindReference(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, seen map[string]bool) string {
	t.Helper()
	root := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	var b strings.Builder
	b.WriteString(text(root.Description) + "\n")
	for _, name := range []string{"spec", "status"} {
		s, ok := root.Properties[name]
		if !ok {
			t.Fatalf("%s has no %s", crd.Spec.Names.Kind, name)
		}
		fmt.Fprintf(&b, "\n**%s**\n\n| Field | Type | Required | Default | Description |\n|---|---|---|---|---|\n", name)
		for _, row := range fieldRows(name, &s, slices.Contains(root.Required, name), seen) {
			b.WriteString(row + "\n")
		}
	}
	return b.String()
}

// fieldRows is the row of the field at path and those of the fields below
// it, by name, the fields of an array's items as path[].name.
func fieldRows(path string, s *apiextensionsv1.JSONSchemaProps, required bool, seen map[string]bool) []string {
	rows := []string{fieldRow(path, s, required)}
	if _, ok := upstreamTypes[path]; ok {
		seen[path] = true
		return rows
	}
	object, prefix := s, path
	if s.Type == "array" && s.Items != nil && s.Items.Schema != nil {
		object, prefix = s.Items.Schema, path+"[]"
	}
	for _, name := range slices.Sorted(maps.Keys(object.Properties)) {
		field := object.Properties[name]
		rows = append(rows, fieldRows(prefix+"."+name, &field, slices.Contains(object.Required, name), seen)...)
	}
	return rows
}

func fieldRow(path string, s *apiextensionsv1.JSONSchemaProps, required bool) string {
	typ, ok := upstreamTypes[path]
	if !ok {
		typ = typeOf(s)
	}
	def := ""
	if s.Default != nil {
		def = code(jsonValue(s.Default.Raw))
	}
	desc := escape(text(s.Description))
	if checks := checksOf(s); len(checks) > 0 {
		desc += "<br>**Checked at apply:** " + strings.Join(checks, "; ")
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s |", path, typ, yesNo(required), def, desc)
}

// typeOf is the type of s in words, with the bounds the API server checks.
func typeOf(s *apiextensionsv1.JSONSchemaProps) string {
	typ := s.Type
	if s.Format != "" {
		typ += " (" + s.Format + ")"
	}
	var elem *apiextensionsv1.JSONSchemaProps
	switch {
	case s.Type == "array" && s.Items != nil && s.Items.Schema != nil:
		elem, typ = s.Items.Schema, "array of "
	case s.Type == "object" && s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
		elem, typ = s.AdditionalProperties.Schema, "map of "
	}
	if elem != nil {
		typ += elem.Type
		if each := bounds(elem); len(each) > 0 {
			typ += " (each " + strings.Join(each, ", ") + ")"
		}
	}
	return strings.Join(append([]string{typ}, bounds(s)...), ", ")
}

func bounds(s *apiextensionsv1.JSONSchemaProps) []string {
	var out []string
	if len(s.Enum) > 0 {
		values := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			values = append(values, jsonValue(v.Raw))
		}
		out = append(out, "one of "+codeList(values))
	}
	out = appendRange(out, s.MinLength, s.MaxLength, " characters")
	out = appendRange(out, s.MinItems, s.MaxItems, " items")
	out = appendRange(out, s.MinProperties, s.MaxProperties, " entries")
	switch {
	case s.Minimum != nil && s.Maximum != nil:
		out = append(out, fmt.Sprintf("%g to %g", *s.Minimum, *s.Maximum))
	case s.Minimum != nil:
		out = append(out, fmt.Sprintf("at least %g", *s.Minimum))
	case s.Maximum != nil:
		out = append(out, fmt.Sprintf("at most %g", *s.Maximum))
	}
	if s.Pattern != "" {
		out = append(out, "matching "+code(s.Pattern))
	}
	if s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields {
		out = append(out, "passed through as is")
	}
	return out
}

func appendRange(out []string, minimum, maximum *int64, unit string) []string {
	switch {
	case minimum != nil && maximum != nil:
		return append(out, fmt.Sprintf("%d to %d%s", *minimum, *maximum, unit))
	case minimum != nil:
		return append(out, fmt.Sprintf("at least %d%s", *minimum, unit))
	case maximum != nil:
		return append(out, fmt.Sprintf("at most %d%s", *maximum, unit))
	}
	return out
}

// checksOf is the CEL messages of s and of its items or map values, each as
// code. A message built by an expression shows its literal parts.
func checksOf(s *apiextensionsv1.JSONSchemaProps) []string {
	rules := s.XValidations
	if s.Items != nil && s.Items.Schema != nil {
		rules = append(slices.Clone(rules), s.Items.Schema.XValidations...)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		rules = append(slices.Clone(rules), s.AdditionalProperties.Schema.XValidations...)
	}
	checks := make([]string, 0, len(rules))
	for _, r := range rules {
		m := r.Message
		if m == "" {
			m = celLiterals(r.MessageExpression)
		}
		checks = append(checks, code(m))
	}
	return checks
}

// celLiterals joins the single-quoted string literals of a CEL expression
// with "…" where the expression computes a part.
func celLiterals(expr string) string {
	var parts []string
	for i := 0; i < len(expr); i++ {
		if expr[i] != '\'' {
			continue
		}
		var lit strings.Builder
		for i++; i < len(expr) && expr[i] != '\''; i++ {
			if expr[i] == '\\' && i+1 < len(expr) {
				i++
			}
			lit.WriteByte(expr[i])
		}
		parts = append(parts, lit.String())
	}
	return strings.Join(parts, "…")
}

// celMessages collects the message of every x-kubernetes-validations rule
// below v, however deep.
func celMessages(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if rules, ok := v["x-kubernetes-validations"].([]any); ok {
			for _, r := range rules {
				if m, ok := r.(map[string]any)["message"].(string); ok {
					out = append(out, code(m))
				}
			}
		}
		for _, child := range v {
			out = append(out, celMessages(child)...)
		}
	case []any:
		for _, child := range v {
			out = append(out, celMessages(child)...)
		}
	}
	return out
}

// text is a description on one line.
func text(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// escape makes text safe in a Markdown table cell: | ends a cell, <name>
// would be taken for HTML, and * or _ for emphasis (an _ inside a word such
// as WEBSOCKETS_REST_AUTH cannot be, so it stays).
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '|' || c == '*':
			b.WriteString(`\` + string(c))
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '_' && !insideWord(s, i):
			b.WriteString(`\_`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// insideWord reports whether s[i] has a letter or digit on either side.
func insideWord(s string, i int) bool {
	return i > 0 && isWordByte(s[i-1]) && i+1 < len(s) && isWordByte(s[i+1])
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// code is s as inline code in a table cell, where | must still be escaped.
func code(s string) string {
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

func codeList(values []string) string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, code(v))
	}
	return strings.Join(out, ", ")
}

// jsonValue is a JSON value as written in YAML: a string without quotes.
func jsonValue(raw []byte) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
