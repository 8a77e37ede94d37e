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

package main

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
)

func send(t *testing.T, url string, e env, args ...string) (int, string, string) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	code := runSendTo(context.Background(), append([]string{"--url", url, "--collection", "messages"}, args...), e.get, stdout, stderr)
	return code, stdout.String(), stderr.String()
}

func TestSendPerformsItemsActionsAndPrintsTheReply(t *testing.T) {
	s := fixture(t)
	e := env{"DIRECTUS_TOKEN": botToken}
	for _, step := range []struct {
		name string
		args []string
		want string
	}{
		{"create (the quickstart's createItem)", []string{"--action", "create", "--data", `{"text":"Hello World!","user":"Ben"}`}, `{"id":1,"text":"Hello World!","user":"Ben"}`},
		{"create several", []string{"--action", "create", "--data", `[{"text":"a","user":"x"},{"text":"b","user":"x"}]`},
			`[{"id":2,"text":"a","user":"x"},{"id":3,"text":"b","user":"x"}]`},
		{"read one", []string{"--action", "read", "--id", "1"}, `{"id":1,"text":"Hello World!","user":"Ben"}`},
		{"read with a query", []string{"--action", "read", "--query", `{"fields":["text"],"filter":{"user":{"_eq":"x"}},"sort":["-id"]}`}, `[{"text":"b"},{"text":"a"}]`},
		{"update", []string{"--action", "update", "--id", "1", "--data", `{"text":"edited"}`}, `{"id":1,"text":"edited","user":"Ben"}`},
		{"delete several", []string{"--action", "delete", "--ids", "2,3"}, `[2,3]`},
		{"delete one by JSON key", []string{"--action", "delete", "--ids", `[1]`}, `[1]`},
	} {
		t.Run(step.name, func(t *testing.T) {
			g := NewWithT(t)
			code, stdout, stderr := send(t, s.URL(), e, step.args...)
			g.Expect(code).To(Equal(0), stderr)
			g.Expect(stdout).To(Equal(step.want + "\n"))
		})
	}
	NewWithT(t).Expect(s.Items("messages")).To(BeEmpty())
}

func TestSendReportsRefusalsAndBadFlags(t *testing.T) {
	s := fixture(t)
	e := env{"DIRECTUS_TOKEN": botToken}
	for _, tc := range []struct {
		name   string
		env    env
		args   []string
		code   int
		stderr string
	}{
		{"forbidden collection", e, []string{"--collection", "secrets", "--action", "read"}, 1, "FORBIDDEN"},
		{"refused token", env{"DIRECTUS_TOKEN": "nope-token"}, []string{"--action", "read"}, 1, "AUTH_FAILED"},
		{"no action", e, nil, 2, `--action ""`},
		{"create without data", e, []string{"--action", "create"}, 2, "--action create needs --data"},
		{"delete without keys", e, []string{"--action", "delete"}, 2, "--action delete needs --id, --ids or --query"},
		{"data not JSON", e, []string{"--action", "create", "--data", "text=hi"}, 2, "--data must be a JSON object or array"},
		{"id and ids", e, []string{"--action", "read", "--id", "1", "--ids", "2"}, 2, "exclusive"},
		{"a heartbeat, which one request does not use", e, []string{"--action", "read", "--heartbeat-interval", "1s"}, 2, "unknown flag: --heartbeat-interval"},
		{"a reconnect delay, which one request does not use", e, []string{"--action", "read", "--reconnect-max-delay", "1s"}, 2, "unknown flag: --reconnect-max-delay"},
		{"a single-dash long flag", e, []string{"-action", "read"}, 2, "unknown shorthand flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			code, stdout, stderr := send(t, s.URL(), tc.env, tc.args...)
			g.Expect(code).To(Equal(tc.code))
			g.Expect(stderr).To(ContainSubstring(tc.stderr))
			g.Expect(stderr).NotTo(ContainSubstring("nope-token"))
			g.Expect(stdout).To(BeEmpty())
		})
	}
}

func TestKeyValueReadsKeysLikeJSON(t *testing.T) {
	g := NewWithT(t)
	g.Expect(keyValue("15")).To(BeEquivalentTo([]byte(`15`)))
	g.Expect(keyValue(`"15"`)).To(BeEquivalentTo([]byte(`"15"`)))
	g.Expect(keyValue("abc-1")).To(Equal("abc-1"))
	ids, err := keyList(`1, b ,"3"`)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ids).To(HaveLen(3))
	g.Expect(ids[1]).To(Equal("b"))
}
