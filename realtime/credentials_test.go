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

package realtime

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// authFrames returns, in order, the static tokens of the auth frames the
// client sent and the connection each went on.
func authFrames(s *fakedirectus.Server, tokens ...string) (used []string, conns []int) {
	for _, f := range s.Frames() {
		if !f.FromClient || f.Type() != "auth" {
			continue
		}
		for _, tok := range tokens {
			if strings.Contains(f.Data, `"access_token":"`+tok+`"`) {
				used, conns = append(used, tok), append(conns, f.Conn)
			}
		}
	}
	return used, conns
}

func TestSetAccessTokenReauthenticatesTheLiveSocketAndNeverSendsTheOldTokenAgain(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	s.AddUser(fakedirectus.User{Email: "bot2@example.com", StaticToken: "bot-rotated-token", Read: []string{"messages"}, Write: []string{"messages"}})
	c, _ := client(t, s, nil)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	connect(t, c)
	g.Expect(next(t, sub).Kind).To(Equal(KindInit))

	g.Expect(c.SetAccessToken("bot-rotated-token")).To(Succeed())
	// The identity changed: the subscription is told to read again, and
	// keeps delivering on the same socket.
	g.Expect(next(t, sub).Kind).To(Equal(KindGap))
	s.Create("messages", map[string]any{"text": "after the rotation"})
	g.Expect(next(t, sub).Kind).To(Equal(KindCreate))
	g.Expect(c.Epoch()).To(Equal(uint64(1)), "no reconnect")
	used, conns := authFrames(s, "bot-static-token", "bot-rotated-token")
	g.Expect(used).To(Equal([]string{"bot-static-token", "bot-rotated-token"}))
	g.Expect(conns).To(Equal([]int{1, 1}))

	// The old token is gone for good: a reconnect authenticates with the new one.
	s.RevokeToken("bot-static-token")
	s.DropConnections()
	g.Expect(nextOf(t, sub, KindInit).Epoch).To(Equal(uint64(2)))
	used, _ = authFrames(s, "bot-static-token", "bot-rotated-token")
	g.Expect(used).To(Equal([]string{"bot-static-token", "bot-rotated-token", "bot-rotated-token"}))
}

func TestSetAccessTokenThatDirectusRefusesKeepsReconnectingWithTheNewestToken(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, ev := client(t, s, nil)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	connect(t, c)
	next(t, sub)

	g.Expect(c.SetAccessToken("not-a-token-yet")).To(Succeed())
	ev.waitFor(t, "reconnect attempt refused", func(e Event) bool {
		return e.Kind == EventError && e.State == StateReconnecting && IsCode(e.Err, CodeAuthFailed)
	})
	s.AddUser(fakedirectus.User{Email: "bot2@example.com", StaticToken: "not-a-token-yet", Read: []string{"messages"}})
	g.Eventually(c.State, wait).Should(Equal(StateConnected))
	g.Expect(nextOf(t, sub, KindInit).Epoch).To(BeNumerically(">", 1))
	s.Create("messages", map[string]any{"text": "delivered again"})
	g.Expect(nextOf(t, sub, KindCreate).Items).To(HaveLen(1))
}

func TestSetAccessTokenRefusesSelfRenewingCredentials(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, func(o *Options) { o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"} })
	g.Expect(c.SetAccessToken("x")).To(MatchError(ErrNotStaticToken))
	r, err := NewREST(RESTOptions{Server: Server{URL: s.URL(), Auth: Auth{RefreshToken: "r"}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.SetAccessToken("x")).To(MatchError(ErrNotStaticToken))
}

func TestRESTSetAccessTokenUsesTheNewToken(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	s.AddUser(fakedirectus.User{Email: "bot2@example.com", StaticToken: "bot-rotated-token", Read: []string{"messages"}})
	r, err := NewREST(RESTOptions{Server: Server{URL: s.URL(), Auth: Auth{AccessToken: "bot-static-token"}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.SetAccessToken("bot-rotated-token")).To(Succeed())
	s.RevokeToken("bot-static-token")
	_, err = r.ReadAll(context.Background(), "messages", nil, ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
}
