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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

// itIsRandom is why the functions that draw from a random source are refused.
const itIsRandom = "it is random"

// Template renders every item of a mirror into one data key with Go's
// text/template, for consumers that want a file of their own format (an
// app.yaml, a .env, an nginx map) instead of JSON per item. The template
// sees
//
//	.Items  the items, decoded from JSON, ordered by key as the List layout is
//	.ByKey  the items by key (range over it visits the keys in sorted order)
//
// and, besides text/template's built-ins, only the functions of Funcs. JSON
// numbers stay as written (json.Number), so 42 prints as 42, not 4.2e+01.
type Template struct {
	key string
	t   *template.Template
}

// TemplateError is a template that failed on the data; its message holds
// text/template's position (name:line:col).
type TemplateError struct{ Err error }

func (e *TemplateError) Error() string {
	return "template: " + strings.TrimPrefix(e.Err.Error(), "template: ")
}

func (e *TemplateError) Unwrap() error { return e.Err }

// ownFuncs are this package's functions. They are layered over sprig's:
// where a name is in both, ours wins.
//
//	toJson v        v as compact JSON (an error, not "", for what JSON cannot hold)
//	toYaml v        v as YAML, without the trailing newline
//	indent n s      s with every line indented by n spaces (for toYaml under a key)
//	quote v         v as a double-quoted string with Go escapes ("" for a missing value)
//	default d v     v, or d when v is missing, "", false, or an empty list or map;
//	                a number, even 0, is kept (sprig's treats 0 as empty)
//	sortBy f list   the list of objects ordered by their field f: numbers
//	                numerically, then strings, objects without f last
var ownFuncs = template.FuncMap{
	"toJson":  toJSON,
	"toYaml":  toYAML,
	"indent":  indent,
	"quote":   quote,
	"default": defaultValue,
	"sortBy":  sortBy,
}

// RemovedFuncs are sprig's functions a Template does not offer, each with
// why: a mirror renders again on every change and resync, and must render
// the same items into the same bytes, from the items alone. A function that
// read the environment or the network would leak the operator's own
// settings into a ConfigMap; one that reads the clock or a random source
// would rewrite the target (and restart whatever hashes it) each time.
var RemovedFuncs = map[string]string{
	"env":                      "it reads the operator's environment",
	"expandenv":                "it reads the operator's environment",
	"getHostByName":            "it queries the network (DNS)",
	"now":                      "it reads the clock",
	"ago":                      "it reads the clock",
	"date":                     dateFallsBackToNow,
	"date_in_zone":             dateFallsBackToNow,
	"dateInZone":               dateFallsBackToNow,
	"htmlDate":                 dateFallsBackToNow,
	"htmlDateInZone":           dateFallsBackToNow,
	"randAlphaNum":             itIsRandom,
	"randAlpha":                itIsRandom,
	"randAscii":                itIsRandom,
	"randNumeric":              itIsRandom,
	"randBytes":                itIsRandom,
	"randInt":                  itIsRandom,
	"shuffle":                  itIsRandom,
	"uuidv4":                   itIsRandom,
	"bcrypt":                   "it salts at random",
	"htpasswd":                 "it salts at random",
	"encryptAES":               "it uses a random IV",
	"genPrivateKey":            itIsRandom,
	"genCA":                    itIsRandom,
	"genCAWithKey":             itIsRandom,
	"genSelfSignedCert":        itIsRandom,
	"genSelfSignedCertWithKey": itIsRandom,
	"genSignedCert":            itIsRandom,
	"genSignedCertWithKey":     itIsRandom,
}

const dateFallsBackToNow = "given anything but a time it formats the current time; use (toDate layout .field).Format layout"

// Funcs are the functions a Template may call besides text/template's
// built-ins (and, or, not, len, index, print, printf, eq, lt, …): sprig's
// (https://masterminds.github.io/sprig/) minus RemovedFuncs, with ownFuncs
// over them.
var Funcs = templateFuncs()

func templateFuncs() template.FuncMap {
	funcs := sprig.TxtFuncMap()
	for name := range RemovedFuncs {
		delete(funcs, name)
	}
	maps.Copy(funcs, ownFuncs)
	return funcs
}

// undefinedFunc is text/template's parse error for a function it does not
// know.
var undefinedFunc = regexp.MustCompile(`function "([^"]+)" not defined`)

// ParseTemplate parses text as the template of data key key. Its error
// names the line (and often the column) of the mistake, and why a sprig
// function that is not offered is not.
func ParseTemplate(key, text string) (*Template, error) {
	t, err := template.New(key).Option("missingkey=zero").Funcs(Funcs).Parse(text)
	if err != nil {
		if m := undefinedFunc.FindStringSubmatch(err.Error()); m != nil && RemovedFuncs[m[1]] != "" {
			return nil, fmt.Errorf("parse template: %w (sprig's %s is not offered: %s)", err, m[1], RemovedFuncs[m[1]])
		}
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return &Template{key: key, t: t}, nil
}

// Key is the data key the template renders into.
func (t *Template) Key() string { return t.key }

// execute renders items (raw JSON by key, keys in order). Output beyond
// MaxDataSize stops it: no target could hold it.
func (t *Template) execute(keys []string, items map[string]json.RawMessage) (string, error) {
	data := struct {
		Items []any
		ByKey map[string]any
	}{make([]any, 0, len(keys)), make(map[string]any, len(keys))}
	for _, k := range keys {
		d := json.NewDecoder(bytes.NewReader(items[k]))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return "", &TemplateError{fmt.Errorf("item %s: %w", k, err)}
		}
		data.Items = append(data.Items, v)
		data.ByKey[k] = v
	}
	out := &limitedBuffer{max: MaxDataSize}
	if err := t.t.Execute(out, data); err != nil {
		return "", &TemplateError{err}
	}
	return out.String(), nil
}

var errTooLong = fmt.Errorf("the output exceeds %d bytes", MaxDataSize)

// limitedBuffer refuses writes beyond max bytes.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func toYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	return strings.TrimSuffix(string(b), "\n"), err
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func quote(v any) string {
	if v == nil {
		return `""`
	}
	return strconv.Quote(fmt.Sprint(v))
}

func defaultValue(d, v any) any {
	switch x := v.(type) {
	case nil:
		return d
	case string:
		if x == "" {
			return d
		}
	case bool:
		if !x {
			return d
		}
	case []any:
		if len(x) == 0 {
			return d
		}
	case map[string]any:
		if len(x) == 0 {
			return d
		}
	}
	return v
}

// sortBy orders a list of objects by one field; the sort is stable, so
// items with equal fields keep their key order.
func sortBy(field string, list any) ([]any, error) {
	in, ok := list.([]any)
	if !ok {
		return nil, errors.New("sortBy: the second argument must be a list, such as .Items")
	}
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b any) int { return compareField(fieldOf(a, field), fieldOf(b, field)) })
	return out, nil
}

func fieldOf(item any, field string) any {
	if m, ok := item.(map[string]any); ok {
		return m[field]
	}
	return nil
}

// compareField orders numbers numerically before strings, strings
// lexically, and anything else (a missing field) last.
func compareField(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case json.Number:
			return 0
		case string:
			return 1
		}
		return 2
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case json.Number:
		fa, _ := new(big.Float).SetString(x.String())
		fb, _ := new(big.Float).SetString(b.(json.Number).String())
		if fa == nil || fb == nil {
			return strings.Compare(x.String(), b.(json.Number).String())
		}
		return fa.Cmp(fb)
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}
