//go:build e2e

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

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/test/envtestutil"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the directus-operator binary once for the CLI tests.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "directus-operator-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "directus-operator")
		out, err := exec.Command("go", "build", "-o", binPath, filepath.Join(envtestutil.RepoRoot(), "cmd")).CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func cliEnv() []string {
	return append(os.Environ(), "DIRECTUS_URL="+dx.url(), "DIRECTUS_TOKEN="+botToken)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// The quickstart's console.log and createItem, as the CLI: tail prints one
// JSON object per line, send creates an item over the socket.
func TestTailPrintsWhatSendCreates(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	tail := exec.CommandContext(ctx, binary(t), "tail", "--collection", "messages", "--event", "create", "--query", `{"fields":["user","text"]}`)
	tail.Env = cliEnv()
	stdout, err := tail.StdoutPipe()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tail.Start()).To(Succeed())
	lines := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
		close(lines)
	}()
	next := func() map[string]any {
		select {
		case m, ok := <-lines:
			g.Expect(ok).To(BeTrue(), "tail ended early")
			return m
		case <-time.After(timeout):
			t.Fatal("no line from tail")
			return nil
		}
	}
	g.Expect(next()).To(HaveKeyWithValue("event", "init"))

	send := exec.Command(binary(t), "send", "--collection", "messages", "--action", "create", "--data", `{"text":"Hello from the CLI","user":"Ben"}`)
	send.Env = cliEnv()
	out, err := send.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", out)
	var created map[string]any
	g.Expect(json.Unmarshal(out, &created)).To(Succeed(), "send prints the reply: %s", out)
	g.Expect(created).To(HaveKeyWithValue("text", "Hello from the CLI"))

	m := next()
	g.Expect(m).To(HaveKeyWithValue("type", "subscription"))
	g.Expect(m).To(HaveKeyWithValue("event", "create"))
	g.Expect(m["data"]).To(Equal([]any{map[string]any{"user": "Ben", "text": "Hello from the CLI"}}))

	g.Expect(tail.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Expect(tail.Wait()).To(Succeed(), "tail exits 0 on SIGTERM")
}

func TestSidecarMirrorsIntoADirectory(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	port := freePort(t)
	sidecar := exec.Command(binary(t), "sidecar", "--collection", "messages", "--target-dir", dir,
		"--query", `{"fields":["id","text"]}`, fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", port))
	sidecar.Env = cliEnv()
	sidecar.Stderr = os.Stderr
	g.Expect(sidecar.Start()).To(Succeed())
	defer func() { _ = sidecar.Process.Kill() }()

	g.Eventually(func() int {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}, timeout, poll).Should(Equal(http.StatusOK))

	keys := createREST(t, map[string]any{"text": "to the sidecar", "user": "s"})
	file := filepath.Join(dir, fmt.Sprintf("%v.json", keys[0]))
	g.Eventually(func() string { b, _ := os.ReadFile(file); return string(b) }, timeout, poll).
		Should(MatchJSON(fmt.Sprintf(`{"id":%v,"text":"to the sidecar"}`, keys[0])))
	g.Expect(bot.Do(context.Background(), "DELETE", fmt.Sprintf("/items/messages/%v", keys[0]), nil, nil)).To(Succeed())
	g.Eventually(func() bool { _, err := os.Stat(file); return os.IsNotExist(err) }, timeout, poll).Should(BeTrue())

	// The directory equals the collection, listed in index.json.
	g.Eventually(func(g Gomega) {
		var index struct {
			Keys []string `json:"keys"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "index.json"))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(json.Unmarshal(b, &index)).To(Succeed())
		g.Expect(index.Keys).To(HaveLen(len(collection(g, ""))))
	}, timeout, poll).Should(Succeed())

	g.Expect(sidecar.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Expect(sidecar.Wait()).To(Succeed(), "the sidecar exits 0 on SIGTERM")
}
