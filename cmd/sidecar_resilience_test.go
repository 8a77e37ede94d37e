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
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// secretVolume is a Secret volume as kubelet's atomic writer lays it out:
// the key is a symlink through ..data, which an update swaps in one rename
// to a new timestamped directory. The file's path never changes; its inode
// and its content do.
type secretVolume struct {
	t   *testing.T
	dir string
	gen int
}

func newSecretVolume(t *testing.T, key, value string) (*secretVolume, string) {
	t.Helper()
	v := &secretVolume{t: t, dir: t.TempDir()}
	v.update(key, value)
	if err := os.Symlink(filepath.Join("..data", key), filepath.Join(v.dir, key)); err != nil {
		t.Fatal(err)
	}
	return v, filepath.Join(v.dir, key)
}

func (v *secretVolume) update(key, value string) {
	v.gen++
	ts := fmt.Sprintf("..2026_01_01_00_00_%02d", v.gen)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o700); err != nil {
		v.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.dir, ts, key), []byte(value+"\n"), 0o600); err != nil {
		v.t.Fatal(err)
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		v.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		v.t.Fatal(err)
	}
}

// authTokens lists, in order, which of tokens each auth frame the server
// received carried, and on which connection.
func authTokens(s *fakedirectus.Server, tokens ...string) (used []string, conns []int) {
	for _, f := range s.Frames() {
		if !f.FromClient || f.Type() != "auth" {
			continue
		}
		for _, tok := range tokens {
			if strings.Contains(f.Data, `"`+tok+`"`) {
				used, conns = append(used, tok), append(conns, f.Conn)
			}
		}
	}
	return used, conns
}

func TestSidecarFollowsARotatedTokenFileWithoutLosingItems(t *testing.T) {
	const rotated = "bot-rotated-token"
	g := NewWithT(t)
	s := fixture(t)
	s.AddUser(fakedirectus.User{Email: "bot2@example.com", StaticToken: rotated, Read: []string{"messages"}, Write: []string{"messages"}})
	s.SetSilently("messages", map[string]any{"text": "seed", "user": "a"})
	vol, tokenFile := newSecretVolume(t, "token", botToken)
	dir := filepath.Join(t.TempDir(), "data")
	base, _ := startSidecar(t, []string{"--url", s.URL(), "--collection", "messages", "--target-dir", dir,
		"--token-file", tokenFile, "--token-file-check-interval", "10ms"}, env{}, sidecarHooks{})
	g.Eventually(func() int { code, _ := probe(base + "/healthz/directus"); return code }).WithTimeout(wait).Should(Equal(http.StatusOK))

	// Items stream before, while and after the Secret rotates: until the
	// server has seen the new token, and for a while after.
	created := 1
	create := func() {
		s.Create("messages", map[string]any{"text": fmt.Sprintf("item %d", created+1), "user": "b"})
		created++
	}
	for range 20 {
		create()
	}
	vol.update("token", rotated)
	g.Eventually(func() []string {
		create()
		used, _ := authTokens(s, botToken, rotated)
		return used
	}).WithTimeout(wait).Should(ContainElement(rotated))
	for range 20 {
		create()
	}

	g.Eventually(func(g Gomega) {
		idx, err := (&subscriptions.DirectoryStore{Dir: dir}).ReadIndex()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(idx.Keys).To(HaveLen(created), "every item, none lost")
	}).WithTimeout(wait).Should(Succeed())
	for i := 2; i <= created; i++ {
		g.Expect(fileContent(dir, fmt.Sprintf("%d.json", i))()).To(Equal(fmt.Sprintf(`{"id":%d,"text":"item %d","user":"b"}`, i, i)))
	}
	used, conns := authTokens(s, botToken, rotated)
	g.Expect(used).To(Equal([]string{botToken, rotated}), "the live socket re-authenticated once")
	g.Expect(conns).To(Equal([]int{1, 1}), "on the same connection: no reconnect")

	// The old token is no longer used: with it revoked, a reconnect and the
	// full read after it (REST) both succeed.
	s.RevokeToken(botToken)
	s.DropConnections()
	s.Create("messages", map[string]any{"text": "after the revocation", "user": "c"})
	created++
	g.Eventually(fileContent(dir, fmt.Sprintf("%d.json", created))).WithTimeout(wait).
		Should(Equal(fmt.Sprintf(`{"id":%d,"text":"after the revocation","user":"c"}`, created)))
	g.Eventually(func(g Gomega) {
		code, body := probe(base + "/healthz/directus")
		g.Expect(code).To(Equal(http.StatusOK), body)
		used, conns := authTokens(s, botToken, rotated)
		g.Expect(used).To(Equal([]string{botToken, rotated, rotated}))
		g.Expect(conns[2]).To(BeNumerically(">", 1))
	}).WithTimeout(wait).Should(Succeed())
}

func TestSidecarStaysReadyWithItsLastSnapshotWhileDirectusIsDown(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	s.SetSilently("messages", map[string]any{"text": "one", "user": "a"})
	dir := filepath.Join(t.TempDir(), "data")
	base, _ := startSidecar(t, []string{"--url", s.URL(), "--collection", "messages", "--target-dir", dir}, env{"DIRECTUS_TOKEN": botToken}, sidecarHooks{})
	g.Eventually(func() int { code, _ := probe(base + "/readyz"); return code }).WithTimeout(wait).Should(Equal(http.StatusOK))

	s.Close() // Directus goes away
	g.Eventually(func(g Gomega) {
		code, body := probe(base + "/healthz/directus")
		g.Expect(code).To(Equal(http.StatusServiceUnavailable))
		var h directusHealth
		g.Expect(json.Unmarshal([]byte(body), &h)).To(Succeed())
		g.Expect(h.Healthy).To(BeFalse())
		g.Expect(h.Connection).NotTo(Equal(string(v1alpha1.ConnectionStateConnected)))
		g.Expect(h.Reasons).NotTo(BeEmpty())
		g.Expect(h.LastSync).NotTo(BeEmpty(), "when the data served was last in sync")
	}).WithTimeout(wait).Should(Succeed())
	code, body := probe(base + "/readyz")
	g.Expect(code).To(Equal(http.StatusOK), "the last complete snapshot is still served")
	g.Expect(body).To(MatchJSON(`{"ready":true,"target":"Directory:` + dir + `","items":1}`))
	g.Expect(fileContent(dir, "1.json")()).To(Equal(`{"id":1,"text":"one","user":"a"}`))
}

func TestSidecarRestartedOnAFilledDirectoryIsReadyWithoutDirectus(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	s.SetSilently("messages", map[string]any{"text": "one", "user": "a"})
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"--url", s.URL(), "--collection", "messages", "--target-dir", dir}
	base, first := startSidecar(t, args, env{"DIRECTUS_TOKEN": botToken}, sidecarHooks{})
	g.Eventually(func() int { code, _ := probe(base + "/readyz"); return code }).WithTimeout(wait).Should(Equal(http.StatusOK))
	g.Expect(first.stop(t)).To(Equal(0))

	// The container restarts on the same emptyDir while Directus is down.
	s.Close()
	base, _ = startSidecar(t, args, env{"DIRECTUS_TOKEN": botToken}, sidecarHooks{})
	code, _ := probe(base + "/readyz")
	g.Expect(code).To(Equal(http.StatusOK), "index.json of the earlier run is a complete snapshot")
	code, _ = probe(base + "/healthz/directus")
	g.Expect(code).To(Equal(http.StatusServiceUnavailable))
}
