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
