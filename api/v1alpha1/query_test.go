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

package v1alpha1

import (
	"encoding/json"
	"reflect"
	"testing"

	. "github.com/onsi/gomega"
)

func TestDirectusQueryKeepsKeysItDoesNotName(t *testing.T) {
	g := NewWithT(t)
	in := `{"fields":["id","text"],"filter":{"user":{"_eq":"Ben"}},"limit":10,"backlink":false,"groupBy":["user"]}`
	var q DirectusQuery
	g.Expect(json.Unmarshal([]byte(in), &q)).To(Succeed())
	g.Expect(q.Fields).To(Equal([]string{"id", "text"}))
	g.Expect(*q.Limit).To(BeEquivalentTo(10))
	g.Expect(q.Extra).To(HaveLen(2))

	out, err := json.Marshal(q)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(MatchJSON(in))
}

func TestDirectusQueryTypedFieldsComeOnlyFromTheirExactKeys(t *testing.T) {
	g := NewWithT(t)
	var q DirectusQuery
	g.Expect(json.Unmarshal([]byte(`{"Limit":0,"FIELDS":["secret"],"fields":["id"]}`), &q)).To(Succeed())
	g.Expect(q.Limit).To(BeNil(), "Limit is not limit: the CRD checks limit only")
	g.Expect(q.Fields).To(Equal([]string{"id"}))
	out, err := json.Marshal(q)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(MatchJSON(`{"Limit":0,"FIELDS":["secret"],"fields":["id"]}`))
}

func TestDirectusQueryDeepCopyIsIndependent(t *testing.T) {
	g := NewWithT(t)
	var q DirectusQuery
	g.Expect(json.Unmarshal([]byte(`{"fields":["id"],"version":"draft"}`), &q)).To(Succeed())
	c := q.DeepCopy()
	c.Fields[0] = "text"
	c.Extra["version"].Raw[1] = 'X'
	g.Expect(q.Fields[0]).To(Equal("id"))
	out, _ := json.Marshal(q)
	g.Expect(out).To(MatchJSON(`{"fields":["id"],"version":"draft"}`))
}

// FuzzDirectusQueryPassesKeysThrough checks that whatever JSON object decodes as a query
// encodes again, that the keys it does not name reach Directus exactly as written, and that
// encoding adds no key the input did not have.
func FuzzDirectusQueryPassesKeysThrough(f *testing.F) {
	for _, seed := range []string{
		`{"fields":["id","text"],"filter":{"user":{"_eq":"Ben"}},"limit":10,"backlink":false,"groupBy":["user"]}`,
		`{"sort":["-date_created"],"search":"hello","deep":{"author":{"_limit":1}},"alias":{"n":"name"}}`,
		`{"version":"draft","aggregate":{"count":"*"},"offset":3}`,
		`{"limit":-1,"fields":null,"filter":null}`,
		`{"Limit":0,"FIELDS":["id"]}`,
		`{"fields":["a"],"fields":["b"]}`,
		`{}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var q DirectusQuery
		if json.Unmarshal(in, &q) != nil {
			return
		}
		var inKeys map[string]json.RawMessage
		if json.Unmarshal(in, &inKeys) != nil {
			return
		}
		out, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("a query that decodes does not encode: %v", err)
		}
		var outKeys map[string]json.RawMessage
		if err := json.Unmarshal(out, &outKeys); err != nil {
			t.Fatalf("encoded query is not an object: %s", out)
		}
		for k, v := range outKeys {
			inV, ok := inKeys[k]
			if !ok {
				t.Fatalf("encoding added key %q: %s -> %s", k, in, out)
			}
			if !knownQueryKeys[k] && !jsonEqual(inV, v) {
				t.Fatalf("key %q changed on its way through: %s -> %s", k, inV, v)
			}
		}
		for k := range inKeys {
			if _, ok := outKeys[k]; !ok && !knownQueryKeys[k] {
				t.Fatalf("key %q was dropped: %s -> %s", k, in, out)
			}
		}
		var again DirectusQuery
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("encoded query does not decode: %v", err)
		}
		if out2, _ := json.Marshal(again); !jsonEqual(out, out2) {
			t.Fatalf("encoding is not stable: %s -> %s", out, out2)
		}
	})
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
