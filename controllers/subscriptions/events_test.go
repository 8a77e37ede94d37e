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

package subscriptions

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"
)

func TestDescribeChangeNamesTheItems(t *testing.T) {
	cases := []struct {
		name string
		verb string
		keys []string
		want string
	}{
		{name: "no key says an item changed", verb: "updated", keys: nil, want: "messages: item updated"},
		{name: "an empty key list is no key", verb: "created", keys: []string{}, want: "messages: item created"},
		{name: "one key names it", verb: "created", keys: []string{"42"}, want: "messages: item 42 created"},
		{name: "many keys are counted and listed in order", verb: "deleted", keys: []string{"3", "1", "2"}, want: "messages: 3 items deleted: 3, 1, 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(describeChange("messages", tc.verb, tc.keys)).To(Equal(tc.want))
		})
	}
}

func TestDescribeChangeIsTrimmedToMaxEventMessage(t *testing.T) {
	manyKeys := func(n int) []string {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = strconv.Itoa(100000 + i)
		}
		return keys
	}
	cases := []struct {
		name    string
		keys    []string
		trimmed bool
	}{
		{name: "a short list is whole", keys: manyKeys(3), trimmed: false},
		{name: "a long list is cut with an ellipsis", keys: manyKeys(500), trimmed: true},
		{name: "one very long key is cut with an ellipsis", keys: []string{strings.Repeat("k", 2000)}, trimmed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			msg := describeChange("messages", "updated", tc.keys)
			g.Expect(len(msg)).To(BeNumerically("<=", maxEventMessage))
			if tc.trimmed {
				g.Expect(msg).To(HaveLen(maxEventMessage))
				g.Expect(msg).To(HaveSuffix("…"))
				g.Expect(msg).To(HavePrefix("messages: "))
			} else {
				g.Expect(msg).NotTo(HaveSuffix("…"))
				g.Expect(msg).To(HaveSuffix("100002"))
			}
		})
	}
}

func TestDescribeChangeAtExactlyTheLimitIsNotTrimmed(t *testing.T) {
	g := NewWithT(t)
	prefix := "messages: item  updated"
	key := strings.Repeat("k", maxEventMessage-len(prefix))
	msg := describeChange("messages", "updated", []string{key})
	g.Expect(msg).To(HaveLen(maxEventMessage))
	g.Expect(msg).To(HaveSuffix("k updated"))
}

func TestTruncateNeverSplitsAUTF8Character(t *testing.T) {
	g := NewWithT(t)
	for _, s := range []string{strings.Repeat("é", 600), strings.Repeat("€", 400), strings.Repeat("a", 2000)} {
		out := Truncate(s, 512)
		g.Expect(len(out)).To(BeNumerically("<=", 512))
		g.Expect(utf8.ValidString(out)).To(BeTrue(), "cut inside a character: %q", out[len(out)-6:])
		g.Expect(out).To(HaveSuffix("…"))
	}
	g.Expect(Truncate("short", 512)).To(Equal("short"))
}
