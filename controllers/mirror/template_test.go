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

package mirror

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// renderTemplate mirrors items (raw JSON by key) through text and returns
// the one data key it renders.
func renderTemplate(t *testing.T, key, text string, items map[string]string) (string, error) {
	t.Helper()
	tmpl, err := ParseTemplate(key, text)
	if err != nil {
		t.Fatal(err)
	}
	m := New(PerItem, "").WithTemplate(tmpl)
	raw := map[string]json.RawMessage{}
	for k, v := range items {
		raw[k] = json.RawMessage(v)
	}
	m.Replace(raw)
	r, err := m.Render()
	if err != nil {
		return "", err
	}
	if len(r.Data) != 1 {
		t.Fatalf("a template renders one key, got %v", r.Data)
	}
	if r.Items != len(items) {
		t.Fatalf("Items = %d, want %d", r.Items, len(items))
	}
	return r.Data[key], nil
}

func TestATemplateBuildsAnAppYAMLFromASettingsCollection(t *testing.T) {
	g := NewWithT(t)
	out, err := renderTemplate(t, "app.yaml", `
{{- range .Items }}
{{ .key }}: {{ toJson .value }}
{{- end }}
features:
{{- range sortBy "key" .Items }}{{ if eq .group "feature" }}
  - {{ .key }}
{{- end }}{{ end }}
rate_limits:
{{ toYaml (index .ByKey "3").value | indent 2 }}
`, map[string]string{
		"1": `{"key":"site_name","value":"Example \"Shop\"","group":"site"}`,
		"2": `{"key":"max_upload_mb","value":25,"group":"site"}`,
		"3": `{"key":"limits","value":{"rps":100,"burst":200},"group":"site"}`,
		"4": `{"key":"checkout","value":true,"group":"feature"}`,
		"5": `{"key":"beta_search","value":false,"group":"feature"}`,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(MatchYAML(`
site_name: "Example \"Shop\""
max_upload_mb: 25
limits: {"burst": 200, "rps": 100}
checkout: true
beta_search: false
features: [beta_search, checkout]
rate_limits: {burst: 200, rps: 100}
`))
}

func TestATemplateBuildsADotEnvWithQuotedValuesAndDefaults(t *testing.T) {
	g := NewWithT(t)
	out, err := renderTemplate(t, ".env", `{{ range sortBy "name" .Items }}{{ .name }}={{ default "unset" .value | quote }}
{{ end }}`, map[string]string{
		"1": `{"name":"API_URL","value":"https://api.example.com/v1?x=1&y=2"}`,
		"2": `{"name":"GREETING","value":"say \"hi\"\nthen leave"}`,
		"3": `{"name":"EMPTY","value":""}`,
		"4": `{"name":"MISSING"}`,
		"5": `{"name":"PORT","value":8080}`,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(`API_URL="https://api.example.com/v1?x=1&y=2"
EMPTY="unset"
GREETING="say \"hi\"\nthen leave"
MISSING="unset"
PORT="8080"
`))
}

func TestATemplateBuildsAnNginxMapOfRedirects(t *testing.T) {
	g := NewWithT(t)
	out, err := renderTemplate(t, "redirects.map", `map $uri $redirect_target {
    default "";
{{- range sortBy "priority" .Items }}
    {{ quote .from }} {{ quote .to }};
{{- end }}
}
`, map[string]string{
		"a": `{"from":"/old","to":"/new","priority":10}`,
		"b": `{"from":"/blog","to":"https://blog.example.com/","priority":2}`,
		"c": `{"from":"/x","to":"/y"}`,
		"d": `{"from":"/sale","to":"/offers","priority":2.5}`,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(`map $uri $redirect_target {
    default "";
    "/blog" "https://blog.example.com/";
    "/sale" "/offers";
    "/old" "/new";
    "/x" "/y";
}
`), "ordered by priority numerically (2 < 2.5 < 10), the item without one last")
}

func TestATemplateThatFailsOnTheDataNamesThePosition(t *testing.T) {
	g := NewWithT(t)
	_, err := renderTemplate(t, "app.yaml", "ok: 1\n{{ range .Items }}{{ .value.nested }}{{ end }}\n",
		map[string]string{"1": `{"value":"a string, not an object"}`})
	var te *TemplateError
	g.Expect(errors.As(err, &te)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("app.yaml:2:"), "line and column")
	g.Expect(err.Error()).To(ContainSubstring("nested"))
}

func TestATemplateWithASyntaxErrorIsRefusedWithItsLine(t *testing.T) {
	_, err := ParseTemplate("app.yaml", "a: 1\nb: {{ .Items \n")
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("app.yaml:2")))
	_, err = ParseTemplate("app.yaml", "{{ env \"HOME\" }}")
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring(`function "env" not defined`)), "no function reaches outside the data")
}

func TestATemplateOutputOverTheSizeLimitStopsRendering(t *testing.T) {
	g := NewWithT(t)
	items := map[string]string{}
	for i := range 20 {
		items[strings.Repeat("k", i+1)] = `"` + strings.Repeat("x", 1000) + `"`
	}
	// 20 × 20 × 20 × 1000 bytes: 8 MB, far over the limit.
	_, err := renderTemplate(t, "big", `{{ range .Items }}{{ range $.Items }}{{ range $.Items }}{{ . }}{{ end }}{{ end }}{{ end }}`, items)
	g.Expect(err).To(MatchError(ContainSubstring("exceeds")))
}

func TestSortByRefusesWhatIsNotAList(t *testing.T) {
	_, err := renderTemplate(t, "x", `{{ sortBy "a" .ByKey }}`, map[string]string{"1": `{}`})
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("must be a list")))
}

func TestATemplateOffersSprigsFunctions(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"b64enc", `{{ "hello" | b64enc }}`, "aGVsbG8="},
		{"upper", `{{ upper .name }}`, "BEN"},
		{"trim", `{{ trim "  x  " }}`, "x"},
		{"replace", `{{ replace "-" "_" "a-b-c" }}`, "a_b_c"},
		{"join", `{{ join "," (list "a" "b") }}`, "a,b"},
		{"toPrettyJson", `{{ toPrettyJson (dict "a" 1) }}`, "{\n  \"a\": 1\n}"},
		{"default fills a missing field", `{{ default "none" .missing }}`, "none"},
		{"our default keeps a literal 0, where sprig's would not", `{{ default 7 0 }}`, "0"},
		{"a number from the item is kept", `{{ default 7 .count }}`, "0"},
		{"our quote of a missing field", `{{ quote .missing }}`, `""`},
		{"a date from a field, formatted", `{{ (toDate "2006-01-02" .day).Format "Jan 2, 2006" }}`, "Mar 4, 2026"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderTemplate(t, "out", `{{ range .Items }}`+tc.text+`{{ end }}`,
				map[string]string{"1": `{"name":"ben","count":0,"day":"2026-03-04"}`})
			g := NewWithT(t)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestATemplateRefusesSprigsFunctionsThatReachOutsideTheItemsAndSaysWhy(t *testing.T) {
	for _, tc := range []struct{ call, why string }{
		{`env "HOME"`, "environment"},
		{`expandenv "$HOME"`, "environment"},
		{`getHostByName "example.com"`, "network"},
		{`now`, "clock"},
		{`randAlphaNum 8`, "random"},
		{`uuidv4`, "random"},
		{`date "2006" 0`, "current time"},
	} {
		t.Run(tc.call, func(t *testing.T) {
			_, err := ParseTemplate("out", "{{ "+tc.call+" }}")
			name := strings.Fields(tc.call)[0]
			NewWithT(t).Expect(err).To(MatchError(And(
				ContainSubstring(`function "`+name+`" not defined`),
				ContainSubstring("sprig's "+name+" is not offered"),
				ContainSubstring(tc.why))))
		})
	}
	for name := range RemovedFuncs {
		NewWithT(t).Expect(Funcs).NotTo(HaveKey(name))
	}
}
