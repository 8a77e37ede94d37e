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
	"fmt"
	"strings"
	"testing"
	"testing/quick"

	. "github.com/onsi/gomega"
)

func TestKeyToDataKeyIsAValidConfigMapKeyAndReversible(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"42":         "42.json",
		"a.b":        "a_2Eb.json",
		"a_b":        "a_5Fb.json",
		"été":        "_C3_A9t_C3_A9.json",
		"with space": "with_20space.json",
		"-7":         "-7.json",
		"UUID-Ab":    "UUID-Ab.json",
		"x/../y":     "x_2F_2E_2E_2Fy.json",
	}
	for key, want := range cases {
		t.Run(key, func(t *testing.T) {
			g := NewWithT(t)
			got, err := KeyToDataKey(key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(want))
			g.Expect(got).To(MatchRegexp(`^[-._a-zA-Z0-9]+$`))
			back, err := DataKeyToKey(got)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(back).To(Equal(key))
		})
	}
}

func TestKeyToDataKeyRoundTripsAnyString(t *testing.T) {
	t.Parallel()
	f := func(key string) bool {
		dk, err := KeyToDataKey(key)
		if err != nil {
			return key == "" || len(key)*3+5 > maxDataKeyLen
		}
		back, err := DataKeyToKey(dk)
		return err == nil && back == key
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKeyToDataKeyRefusesKeysTooLongOrEmpty(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	_, err := KeyToDataKey(strings.Repeat("x", 250))
	g.Expect(err).To(MatchError(ContainSubstring("too long for a ConfigMap key")))
	_, err = KeyToDataKey("")
	g.Expect(err).To(HaveOccurred())
	_, err = DataKeyToKey("abc_4.json")
	g.Expect(err).To(HaveOccurred())
}

func TestItemKeyTreatsNumbersAndStringsAlike(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	for _, item := range []string{`{"id":44,"text":"a"}`, `{"id":"44"}`} {
		k, err := ItemKey(json.RawMessage(item), "id")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(k).To(Equal("44"))
	}
	k, err := ItemKey(json.RawMessage(`{"id":12345678901234567890}`), "id")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k).To(Equal("12345678901234567890"), "big integer keys must not lose precision")
	_, err = ItemKey(json.RawMessage(`{"text":"no key"}`), "id")
	g.Expect(err).To(MatchError(ContainSubstring(`no "id" field`)))
	_, err = ItemKey(json.RawMessage(`{"id":null}`), "id")
	g.Expect(err).To(HaveOccurred())
	_, err = ItemKey(json.RawMessage(`{"id":{"a":1}}`), "id")
	g.Expect(err).To(HaveOccurred())
}

func TestWithoutFieldDropsOnlyThatField(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	out, err := WithoutField(json.RawMessage(`{"id":1,"user":"Ben","text":"Hi"}`), "id")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(MatchJSON(`{"user":"Ben","text":"Hi"}`))
}

func TestMirrorPerItemLayout(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	m := New(PerItem, "")
	m.Replace(map[string]json.RawMessage{"1": json.RawMessage(`{"id":1, "text":"a"}`), "2": json.RawMessage(`{"id":2}`)})
	g.Expect(m.Upsert("3", json.RawMessage(`{"id":3}`))).To(BeTrue())
	g.Expect(m.Upsert("3", json.RawMessage(`{ "id": 3 }`))).To(BeFalse(), "same JSON, different spacing, is no change")
	g.Expect(m.Delete("2")).To(BeTrue())
	g.Expect(m.Delete("99")).To(BeFalse(), "a delete of a key not in the mirror is a no-op")

	r, err := m.Render()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Data).To(Equal(map[string]string{"1.json": `{"id":1,"text":"a"}`, "3.json": `{"id":3}`}))
	g.Expect(r.Items).To(Equal(2))
	g.Expect(r.Size).To(Equal(DataSize(r.Data)))
}

func TestMirrorListLayoutIsOrderedByKey(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	m := New(List, "all.json")
	for _, k := range []int{10, 9, 100, 1} {
		m.Upsert(fmt.Sprint(k), json.RawMessage(fmt.Sprintf(`{"id":%d}`, k)))
	}
	r, err := m.Render()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Data).To(HaveLen(1))
	g.Expect(r.Data["all.json"]).To(MatchJSON(`[{"id":1},{"id":9},{"id":10},{"id":100}]`))
}

func TestRenderHashChangesWithContentOnly(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	a, b := New(PerItem, ""), New(PerItem, "")
	a.Upsert("1", json.RawMessage(`{"x":1}`))
	a.Upsert("2", json.RawMessage(`{"x":2}`))
	b.Upsert("2", json.RawMessage(`{"x":2}`))
	b.Upsert("1", json.RawMessage(`{"x":1}`))
	ra, _ := a.Render()
	rb, _ := b.Render()
	g.Expect(ra.Hash).To(Equal(rb.Hash))
	b.Upsert("1", json.RawMessage(`{"x":3}`))
	rb, _ = b.Render()
	g.Expect(rb.Hash).NotTo(Equal(ra.Hash))
	g.Expect(rb.Seq).To(BeNumerically(">", ra.Seq))
}

func TestSortKeysNumericBeforeText(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	keys := []string{"b", "10", "a", "2", "-1"}
	SortKeys(keys)
	g.Expect(keys).To(Equal([]string{"-1", "2", "10", "a", "b"}))
}

func BenchmarkRender2000Items(b *testing.B) {
	m := New(PerItem, "")
	for i := range 2000 {
		m.Upsert(fmt.Sprint(i), json.RawMessage(fmt.Sprintf(`{"id":%d,"user":"Ben","text":"Hello World number %d"}`, i, i)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Render(); err != nil {
			b.Fatal(err)
		}
	}
}
