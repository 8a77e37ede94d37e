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
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/testutil"
)

const botToken = "bot-static-token"

// fixture is the transcripts' world: messages(id, text, user), secrets, and
// the bot, whose static token reads and writes messages only.
func fixture(t *testing.T) *fakedirectus.Server {
	t.Helper()
	s := fakedirectus.New(fakedirectus.Options{})
	t.Cleanup(s.Close)
	s.AddCollection("messages", "id", "text", "user")
	s.AddCollection("secrets", "id", "value")
	s.AddUser(fakedirectus.User{Email: "bot@example.com", Password: "bot-password", StaticToken: botToken, Read: []string{"messages"}, Write: []string{"messages"}})
	return s
}

// syncBuffer is an io.Writer that a command writes while the test reads.
type syncBuffer struct{ testutil.SyncBuffer }

// lines returns the complete lines written so far.
func (s *syncBuffer) lines() []string {
	out := s.String()
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		return strings.Split(out[:i], "\n")
	}
	return nil
}

var receivedRE = regexp.MustCompile(`"received":"([^"]*)"`)

// stable replaces the receive time, after checking it is RFC3339Nano.
func stable(t *testing.T, lines []string) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, l := range lines {
		m := receivedRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line without received: %s", l)
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Fatalf("received %q is not RFC3339Nano: %v", m[1], err)
		}
		out[i] = receivedRE.ReplaceAllString(l, `"received":"T"`)
	}
	return out
}

// run is a command running in a goroutine until the test ends.
type run struct {
	cancel context.CancelFunc
	done   chan struct{}
	code   int
}

// stop ends the command as SIGINT would and returns its exit code.
func (r *run) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not stop")
	}
	return r.code
}

func start(t *testing.T, fn func(ctx context.Context) int) *run {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = fn(ctx)
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// startTail runs tail until the test ends and returns its stdout.
func startTail(t *testing.T, args []string, e env) (*syncBuffer, *run) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	r := start(t, func(ctx context.Context) int { return runTailTo(ctx, args, e.get, stdout, stderr) })
	return stdout, r
}

func TestTailPrintsEveryMessageAsDirectusSentIt(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	s.SetSilently("messages", map[string]any{"text": "hello", "user": "alice"})
	stdout, tail := startTail(t, []string{"--url", s.URL(), "--collection", "messages", "--log-level", "error"}, env{"DIRECTUS_TOKEN": botToken})

	expect := func(want ...string) {
		t.Helper()
		g.Eventually(func() []string { return stable(t, stdout.lines()) }).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(Equal(want))
	}
	initLine := `{"type":"subscription","event":"init","data":[{"id":1,"text":"hello","user":"alice"}],"uid":"sub1","epoch":1,"received":"T"}`
	expect(initLine)

	keys := s.Create("messages", map[string]any{"text": "Hello World!", "user": "Ben"})
	createLine := `{"type":"subscription","event":"create","data":[{"id":2,"text":"Hello World!","user":"Ben"}],"uid":"sub1","epoch":1,"received":"T"}`
	expect(initLine, createLine)

	// The fake encodes "<" as \u003c (Go's encoding/json does), Directus
	// does not: either way tail prints the bytes the server sent.
	s.Update("messages", keys, map[string]any{"text": "<edited> & more"})
	updateLine := `{"type":"subscription","event":"update","data":[{"id":2,"text":"\u003cedited\u003e \u0026 more","user":"Ben"}],"uid":"sub1","epoch":1,"received":"T"}`
	expect(initLine, createLine, updateLine)

	// A delete through the REST URL sends the key as a string, other
	// deletes as numbers: tail shows which.
	s.DeleteByURL("messages", keys[0])
	s.Delete("messages", 1)
	expect(initLine, createLine, updateLine,
		`{"type":"subscription","event":"delete","data":["2"],"uid":"sub1","epoch":1,"received":"T"}`,
		`{"type":"subscription","event":"delete","data":[1],"uid":"sub1","epoch":1,"received":"T"}`)

	g.Expect(tail.stop(t)).To(Equal(0), "SIGINT exits 0")
}

func TestTailWithAnEventPrintsAnInitWithoutDataAndErrors(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	stdout, _ := startTail(t, []string{"--url", s.URL(), "--collection", "messages", "--event", "create", "--query", `{"fields":["text"]}`, "--log-level", "error"},
		env{"DIRECTUS_TOKEN": botToken})
	g.Eventually(func() []string { return stable(t, stdout.lines()) }).WithTimeout(10 * time.Second).Should(Equal([]string{
		`{"type":"subscription","event":"init","uid":"sub1","epoch":1,"received":"T"}`,
	}))
	s.Create("messages", map[string]any{"text": "only text", "user": "Ben"})
	g.Eventually(func() []string { return stable(t, stdout.lines()) }).WithTimeout(10 * time.Second).Should(ContainElement(
		`{"type":"subscription","event":"create","data":[{"text":"only text"}],"uid":"sub1","epoch":1,"received":"T"}`,
	))

	forbidden, _ := startTail(t, []string{"--url", s.URL(), "--collection", "secrets", "--log-level", "error"}, env{"DIRECTUS_TOKEN": botToken})
	g.Eventually(func() []string { return stable(t, forbidden.lines()) }).WithTimeout(10 * time.Second).Should(Equal([]string{
		`{"type":"subscription","event":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"secrets\" or it does not exist. Queried in root."},"uid":"sub1","epoch":1,"received":"T"}`,
	}))
}

func TestTailExitsNonZeroWhenTheFirstConnectionIsRefused(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	const wrong = "wrong-token-value"
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	code := runTailTo(context.Background(), []string{"--url", s.URL(), "--collection", "messages", "--log-level", "error"}, env{"DIRECTUS_TOKEN": wrong}.get, stdout, stderr)
	g.Expect(code).To(Equal(1))
	g.Expect(stderr.String()).To(ContainSubstring("AUTH_FAILED"))
	g.Expect(stderr.String()).NotTo(ContainSubstring(wrong))
	g.Expect(stdout.String()).To(BeEmpty())

	code = runTailTo(context.Background(), []string{"--collection", "messages"}, env{"DIRECTUS_TOKEN": botToken}.get, stdout, stderr)
	g.Expect(code).To(Equal(2), "a configuration error")
}
