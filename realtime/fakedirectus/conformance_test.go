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

package fakedirectus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is the transcripts' world: messages(id, text, user), secrets, and the bot user with
// the static token "bot-static-token" and read/write on messages only.
func fixture(t *testing.T, o Options) *Server {
	t.Helper()
	s := New(o)
	t.Cleanup(s.Close)
	s.AddCollection("messages", "id", "text", "user")
	s.AddCollection("secrets", "id", "value")
	s.AddUser(User{Email: "bot@example.com", Password: "bot-password", StaticToken: "bot-static-token", Read: []string{"messages"}, Write: []string{"messages"}})
	s.AddUser(User{Email: "admin@example.com", Password: "admin-password", StaticToken: "admin-token", Admin: true})
	return s
}

type peer struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, s *Server, query string) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(s.URL(), "http", "ws", 1)+"/websocket"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &peer{t: t, ws: ws}
}

func (p *peer) send(frame string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		p.t.Fatalf("send %s: %v", frame, err)
	}
}

func (p *peer) read(timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, b, err := p.ws.Read(ctx)
	return string(b), err
}

// expect reads one frame per want and compares them as JSON values (key order is irrelevant).
func (p *peer) expect(want ...string) {
	p.t.Helper()
	for _, w := range want {
		got, err := p.read(5 * time.Second)
		if err != nil {
			p.t.Fatalf("waiting for %s: %v", w, err)
		}
		assertJSONEqual(p.t, got, w)
	}
}

// expectClose checks that the next thing on the socket is its close, with
// this status.
func (p *peer) expectClose(code websocket.StatusCode) {
	p.t.Helper()
	got, err := p.read(5 * time.Second)
	if err == nil {
		p.t.Fatalf("expected close %d, got frame %s", code, got)
	}
	c := websocket.CloseStatus(err)
	if c == -1 {
		c = websocket.StatusAbnormalClosure // no close frame: the connection just ended
	}
	if c != code {
		p.t.Fatalf("close status = %d (%v), want %d", c, err, code)
	}
}

// expectSilence checks that nothing arrives for d.
func (p *peer) expectSilence(d time.Duration) {
	p.t.Helper()
	got, err := p.read(d)
	if err == nil {
		p.t.Fatalf("expected no frame, got %s", got)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		p.t.Fatalf("expected a timeout, got %v", err)
	}
}

func assertJSONEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("frame mismatch\n got: %s\nwant: %s", got, want)
	}
}

const authOK = `{"type":"auth","status":"ok"}`
const handshakeFailed = `{"type":"auth","status":"error","error":{"code":"AUTH_FAILED","message":"Authentication handshake failed."}}`

func authed(t *testing.T, s *Server) *peer {
	t.Helper()
	p := dial(t, s, "")
	p.send(`{"type":"auth","access_token":"bot-static-token"}`)
	p.expect(authOK)
	return p
}

// a-static-token-create: subscribe with event=create and fields, then creates via the
// server (REST-like), batch, and the WS items action.
func TestTranscriptStaticTokenCreate(t *testing.T) {
	s := fixture(t, Options{})
	p := authed(t, s)
	p.send(`{"type":"subscribe","collection":"messages","event":"create","query":{"fields":["user","text"]},"uid":"msgs"}`)
	p.expect(`{"type":"subscription","event":"init","uid":"msgs"}`)

	s.Create("messages", map[string]any{"text": "hello from REST", "user": "alice"})
	p.expect(`{"type":"subscription","event":"create","data":[{"user":"alice","text":"hello from REST"}],"uid":"msgs"}`)

	s.Create("messages", map[string]any{"text": "batch 1", "user": "bob"}, map[string]any{"text": "batch 2", "user": "carol"})
	p.expect(
		`{"type":"subscription","event":"create","data":[{"user":"bob","text":"batch 1"}],"uid":"msgs"}`,
		`{"type":"subscription","event":"create","data":[{"user":"carol","text":"batch 2"}],"uid":"msgs"}`,
	)

	p.send(`{"type":"items","collection":"messages","action":"create","data":[{"text":"ws batch 1","user":"ws"},{"text":"ws batch 2","user":"ws"}],"query":{"fields":["id","text"]},"uid":"create-2"}`)
	p.expect(
		`{"type":"subscription","event":"create","data":[{"user":"ws","text":"ws batch 1"}],"uid":"msgs"}`,
		`{"type":"subscription","event":"create","data":[{"user":"ws","text":"ws batch 2"}],"uid":"msgs"}`,
		`{"type":"items","data":[{"id":4,"text":"ws batch 1"},{"id":5,"text":"ws batch 2"}],"uid":"create-2"}`,
	)

	p.send(`{"type":"items","collection":"messages","action":"read","query":{"fields":["id","user","text"],"sort":["-id"],"limit":2},"uid":"read-1"}`)
	p.expect(`{"type":"items","data":[{"id":5,"user":"ws","text":"ws batch 2"},{"id":4,"user":"ws","text":"ws batch 1"}],"uid":"read-1"}`)
}

// b-all-events: init with data, update frames per call, delete keys typed by origin.
func TestTranscriptAllEvents(t *testing.T) {
	s := fixture(t, Options{})
	s.SetSilently("messages", map[string]any{"id": 42, "text": "seed 1", "user": "seed"}, map[string]any{"id": 43, "text": "seed 2", "user": "seed"})
	p := authed(t, s)
	p.send(`{"type":"subscribe","collection":"messages","uid":"all"}`)
	p.expect(`{"type":"subscription","event":"init","data":[{"id":42,"text":"seed 1","user":"seed"},{"id":43,"text":"seed 2","user":"seed"}],"uid":"all"}`)

	s.Create("messages", map[string]any{"text": "b1", "user": "bob"}, map[string]any{"text": "b2", "user": "bob"}, map[string]any{"text": "b3", "user": "bob"})
	p.expect(
		`{"type":"subscription","event":"create","data":[{"id":44,"text":"b1","user":"bob"}],"uid":"all"}`,
		`{"type":"subscription","event":"create","data":[{"id":45,"text":"b2","user":"bob"}],"uid":"all"}`,
		`{"type":"subscription","event":"create","data":[{"id":46,"text":"b3","user":"bob"}],"uid":"all"}`,
	)
	s.Update("messages", []any{44, 45, 46}, map[string]any{"user": "bobby"})
	p.expect(`{"type":"subscription","event":"update","data":[{"id":44,"text":"b1","user":"bobby"},{"id":45,"text":"b2","user":"bobby"},{"id":46,"text":"b3","user":"bobby"}],"uid":"all"}`)

	p.send(`{"type":"items","collection":"messages","action":"update","id":44,"data":{"text":"edited via WS"},"uid":"u1"}`)
	p.expect(
		`{"type":"subscription","event":"update","data":[{"id":44,"text":"edited via WS","user":"bobby"}],"uid":"all"}`,
		`{"type":"items","data":{"id":44,"text":"edited via WS","user":"bobby"},"uid":"u1"}`,
	)

	s.DeleteByURL("messages", 44)
	p.expect(`{"type":"subscription","event":"delete","data":["44"],"uid":"all"}`)
	p.send(`{"type":"items","collection":"messages","action":"delete","ids":[45,46],"uid":"d2"}`)
	p.expect(
		`{"type":"subscription","event":"delete","data":[45,46],"uid":"all"}`,
		`{"type":"items","data":[45,46],"uid":"d2"}`,
	)
}

// c-auth-variants: email+password and refresh tokens over the socket; refresh tokens rotate.
func TestTranscriptAuthVariants(t *testing.T) {
	s := fixture(t, Options{})
	p := dial(t, s, "")
	p.send(`{"type":"auth","email":"bot@example.com","password":"bot-password"}`)
	got, err := p.read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ok struct {
		Type, Status string
		Refresh      string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(got), &ok); err != nil || ok.Status != "ok" || ok.Refresh == "" {
		t.Fatalf("auth reply %s: want ok with a refresh_token", got)
	}

	p2 := dial(t, s, "")
	p2.send(`{"type":"auth","refresh_token":"` + ok.Refresh + `","uid":42}`)
	got, _ = p2.read(5 * time.Second)
	var ok2 struct {
		Status  string
		UID     any    `json:"uid"`
		Refresh string `json:"refresh_token"`
	}
	_ = json.Unmarshal([]byte(got), &ok2)
	if ok2.Status != "ok" || ok2.Refresh == "" || ok2.Refresh == ok.Refresh || ok2.UID != float64(42) {
		t.Fatalf("refresh auth reply %s: want ok, a new refresh_token and the numeric uid echoed", got)
	}

	p3 := dial(t, s, "")
	p3.send(`{"type":"auth","refresh_token":"` + ok.Refresh + `"}`)
	p3.expect(handshakeFailed)
	p3.expectClose(websocket.StatusNoStatusRcvd)
	if s.Logins() != 1 {
		t.Fatalf("Logins() = %d, want 1", s.Logins())
	}
}

// d-auth-errors: every bad first frame gets AUTH_FAILED without uid and a close without
// status; a failed re-auth carries the uid.
func TestTranscriptAuthErrors(t *testing.T) {
	s := fixture(t, Options{AuthTimeout: 300 * time.Millisecond})
	for _, first := range []string{
		`{"type":"auth","access_token":"not-a-valid-token","uid":"a1"}`,
		`{"type":"auth","email":"bot@example.com","password":"wrong-password","uid":"a2"}`,
		`{"type":"auth"}`,
		`{"type":"auth","refresh_token":"not-a-refresh-token"}`,
		`{"type":"subscribe","collection":"messages","uid":"s1"}`,
		`{"type":"ping"}`,
		`{"type":"auth",`,
	} {
		t.Run(first, func(t *testing.T) {
			p := dial(t, s, "")
			p.send(first)
			p.expect(handshakeFailed)
			p.expectClose(websocket.StatusNoStatusRcvd)
		})
	}
	t.Run("auth timeout", func(t *testing.T) {
		p := dial(t, s, "")
		p.expect(handshakeFailed)
		p.expectClose(websocket.StatusNoStatusRcvd)
	})
	t.Run("failed re-auth", func(t *testing.T) {
		p := authed(t, s)
		p.send(`{"type":"auth","access_token":"not-a-valid-token","uid":"reauth"}`)
		p.expect(`{"type":"auth","status":"error","error":{"code":"AUTH_FAILED","message":"Authentication failed."},"uid":"reauth"}`)
		p.expectClose(websocket.StatusNoStatusRcvd)
	})
}

// d-request-errors: errors after the handshake keep the socket open.
func TestTranscriptRequestErrors(t *testing.T) {
	s := fixture(t, Options{})
	p := authed(t, s)
	steps := []struct{ send, want string }{
		{`{"type":"subscribe","collection":"secrets","uid":"forbidden"}`,
			`{"type":"subscribe","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"secrets\" or it does not exist. Queried in root."},"uid":"forbidden"}`},
		{`{"type":"subscribe","collection":"secrets","event":"create","uid":"forbidden-create"}`,
			`{"type":"subscription","event":"init","uid":"forbidden-create"}`},
		{`{"type":"subscribe","collection":"directus_users","uid":"sys"}`,
			`{"type":"subscribe","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"directus_users\" or it does not exist. Queried in root."},"uid":"sys"}`},
		{`{"type":"subscribe","collection":"messages","query":{"fields":["nope"]},"uid":"q-fields"}`,
			`{"type":"subscribe","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access field \"nope\" in collection \"messages\" or it does not exist. Queried in root."},"uid":"q-fields"}`},
		{`{"type":"subscribe","collection":"messages","query":{"filter":{"text":{"_bogus":"x"}}},"uid":"q-filter-op"}`,
			`{"type":"subscribe","status":"error","error":{"code":"INVALID_QUERY","message":"Invalid query. \"text\" field type does not contain the \"_bogus\" filter operator."},"uid":"q-filter-op"}`},
		{`{"type":"subscribe","collection":"messages","query":{"limit":"abc"},"uid":"q-limit"}`,
			`{"type":"subscribe","status":"error","error":{"code":"INVALID_QUERY","message":"Invalid query. \"limit\" must be a number."},"uid":"q-limit"}`},
		{`{"type":"subscribe","collection":"messages","query":"fields=*","uid":"q-type"}`,
			`{"type":"subscribe","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error: Invalid input: expected record, received string at \"query\""}}`},
		{`{"type":"subscribe","collection":"messages","event":"upsert","uid":"bad-event"}`,
			`{"type":"subscribe","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error: Invalid input: expected \"create\" at \"event\" or Invalid input: expected \"update\" at \"event\" or Invalid input: expected \"delete\" at \"event\""}}`},
		{`{"type":"subscribe","uid":"no-collection"}`,
			`{"type":"subscribe","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error: Invalid input: expected string, received undefined at \"collection\""}}`},
		{`{"type":"subscribe",`,
			`{"type":"server","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Unable to parse the incoming message."}}`},
		{`[1,2,3]`, `{"type":"server","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error: Invalid input: expected object, received array"}}`},
		{`"hello"`, `{"type":"server","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error: Invalid input: expected object, received string"}}`},
		{`{"collection":"messages"}`, `{"type":"server","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error: Invalid input: expected string, received undefined at \"type\""}}`},
		{`{"type":"items","collection":"secrets","action":"read","uid":"i-forbidden"}`,
			`{"type":"items","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"secrets\" or it does not exist. Queried in root."},"uid":"i-forbidden"}`},
		{`{"type":"items","collection":"directus_users","action":"read","uid":"i-system"}`,
			`{"type":"items","status":"error","error":{"code":"INVALID_COLLECTION","message":"Cannot trigger an action on a system collection."},"uid":"i-system"}`},
		{`{"type":"items","collection":"messages","action":"delete","uid":"i-delete"}`,
			`{"type":"items","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Either 'ids', 'id' or 'query' is required for a DELETE request."},"uid":"i-delete"}`},
	}
	for _, st := range steps {
		p.send(st.send)
		p.expect(st.want)
	}
	// Unknown types get no reply at all.
	p.send(`{"type":"bogus","uid":"u-bogus"}`)
	p.send(`{"type":"ping","uid":"alive?"}`)
	p.expect(`{"type":"pong","uid":"alive?"}`)

	// A forbidden event subscription gets a FORBIDDEN frame per event.
	s.Create("secrets", map[string]any{"value": "s3cr3t"})
	p.expect(`{"type":"subscribe","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"secrets\" or it does not exist. Queried in root."},"uid":"forbidden-create"}`)
}

// g-subscriptions: uid echo, replace, unsubscribe-all, filter/limit/sort/meta semantics,
// item subscriptions.
func TestTranscriptSubscriptions(t *testing.T) {
	s := fixture(t, Options{})
	s.SetSilently("messages",
		map[string]any{"id": 51, "text": "a1", "user": "alice"}, map[string]any{"id": 52, "text": "b1", "user": "bob"},
		map[string]any{"id": 53, "text": "a2", "user": "alice"}, map[string]any{"id": 54, "text": "b2", "user": "bob"})
	p := authed(t, s)

	p.send(`{"type":"unsubscribe","uid":"never-subscribed"}`)
	p.expect(`{"type":"subscription","event":"unsubscribe","uid":"never-subscribed"}`)
	p.send(`{"type":"subscribe","collection":"messages","event":"create","query":{"fields":["id"]},"uid":7}`)
	p.expect(`{"type":"subscription","event":"init","uid":"7"}`)
	p.send(`{"type":"subscribe","collection":"messages","event":"create","query":{"fields":["text"]},"uid":7}`)
	p.expect(`{"type":"subscription","event":"init","uid":"7"}`)
	s.Create("messages", map[string]any{"id": 57, "text": "dup test", "user": "x"})
	p.expect(`{"type":"subscription","event":"create","data":[{"text":"dup test"}],"uid":"7"}`)
	p.send(`{"type":"unsubscribe"}`)
	p.expect(`{"type":"subscription","event":"unsubscribe"}`)
	if n := s.Subscriptions(); n != 0 {
		t.Fatalf("Subscriptions() = %d after unsubscribe-all", n)
	}
	s.DeleteSilently("messages", 57)

	p.send(`{"type":"subscribe","collection":"messages","query":{"fields":["id","user","text"],"filter":{"user":{"_eq":"alice"}},"sort":["-id"],"limit":2,"meta":"total_count"},"uid":"alice"}`)
	p.expect(`{"type":"subscription","event":"init","data":[{"id":53,"user":"alice","text":"a2"},{"id":51,"user":"alice","text":"a1"}],"meta":{"total_count":4},"uid":"alice"}`)
	s.Create("messages", map[string]any{"id": 60, "text": "b3", "user": "bob"}, map[string]any{"id": 61, "text": "a3", "user": "alice"})
	p.expect(`{"type":"subscription","event":"create","data":[{"id":61,"user":"alice","text":"a3"}],"meta":{"total_count":6},"uid":"alice"}`)
	s.Update("messages", []any{"60"}, map[string]any{"text": "b3*"})
	s.Update("messages", []any{51, 53, 61}, map[string]any{"text": "alice*"})
	p.expect(`{"type":"subscription","event":"update","data":[{"id":61,"user":"alice","text":"alice*"},{"id":53,"user":"alice","text":"alice*"}],"meta":{"total_count":6},"uid":"alice"}`)
	s.Update("messages", []any{"52"}, map[string]any{"user": "alice"})
	p.expect(`{"type":"subscription","event":"update","data":[{"id":52,"user":"alice","text":"b1"}],"meta":{"total_count":6},"uid":"alice"}`)
	s.Update("messages", []any{"51"}, map[string]any{"user": "bob"}) // leaves the filter: nothing
	s.Delete("messages", 60)                                         // filtered out, still delivered
	p.expect(`{"type":"subscription","event":"delete","data":[60],"meta":{"total_count":5},"uid":"alice"}`)
	p.send(`{"type":"unsubscribe","uid":"alice"}`)
	p.expect(`{"type":"subscription","event":"unsubscribe","uid":"alice"}`)

	p.send(`{"type":"subscribe","collection":"messages","item":54,"query":{"fields":["id","text"]},"uid":"item-num"}`)
	p.expect(`{"type":"subscription","event":"init","data":{"id":54,"text":"b2"},"uid":"item-num"}`)
	s.Update("messages", []any{54}, map[string]any{"text": "numeric key: missed"})
	s.Update("messages", []any{"54"}, map[string]any{"text": "item update 1"})
	p.expect(`{"type":"subscription","event":"update","data":{"id":54,"text":"item update 1"},"uid":"item-num"}`)
	s.DeleteByURL("messages", 54)
	p.expect(`{"type":"subscription","event":"delete","data":"54","uid":"item-num"}`)
}

// h1/h3/h4: upgrade refusals and URL tokens.
func TestTranscriptUpgrades(t *testing.T) {
	ws := func(s *Server, q string) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, strings.Replace(s.URL(), "http", "ws", 1)+"/websocket"+q, nil)
		if err == nil {
			_ = c.CloseNow()
		}
		return resp, err
	}
	s := fixture(t, Options{})
	if resp, err := ws(s, "?access_token=not-a-valid-token"); err == nil || resp.StatusCode != 401 {
		t.Fatalf("bad URL token: resp %v err %v, want 401", resp, err)
	}
	p := dial(t, s, "?access_token=bot-static-token")
	p.send(`{"type":"ping","uid":"p"}`)
	p.expect(`{"type":"pong","uid":"p"}`)

	strict := fixture(t, Options{AuthMode: "strict"})
	if resp, err := ws(strict, ""); err == nil || resp.StatusCode != 401 {
		t.Fatalf("strict without token: resp %v err %v, want 401", resp, err)
	}

	off := fixture(t, Options{RealtimeDisabled: true})
	resp, err := ws(off, "")
	if err == nil || resp.StatusCode != 404 {
		t.Fatalf("disabled: resp %v err %v, want 404", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	assertJSONEqual(t, string(body), `{"errors":[{"message":"Route /websocket doesn't exist.","extensions":{"path":"/websocket","code":"ROUTE_NOT_FOUND"}}]}`)

	s.RefuseUpgrades(403)
	if resp, err := ws(s, ""); err == nil || resp.StatusCode != 403 {
		t.Fatalf("refused: resp %v err %v, want 403", resp, err)
	}
}

// h2: public mode opens without auth and a failed auth keeps the socket.
func TestTranscriptPublicMode(t *testing.T) {
	s := fixture(t, Options{AuthMode: "public"})
	p := dial(t, s, "")
	p.send(`{"type":"items","collection":"messages","action":"read","uid":"public-read"}`)
	p.expect(`{"type":"items","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"messages\" or it does not exist. Queried in root."},"uid":"public-read"}`)
	p.send(`{"type":"auth","access_token":"not-a-valid-token","uid":"bad"}`)
	p.expect(`{"type":"auth","status":"error","error":{"code":"AUTH_FAILED","message":"Authentication failed."},"uid":"bad"}`)
	p.send(`{"type":"auth","access_token":"bot-static-token","uid":"good"}`)
	p.expect(`{"type":"auth","status":"ok","uid":"good"}`)
}

// e-heartbeat: pings every period; a silent client is closed (1005) one period later; any
// message counts as an answer.
func TestTranscriptHeartbeat(t *testing.T) {
	s := fixture(t, Options{HeartbeatPeriod: 150 * time.Millisecond})
	answering := authed(t, s)
	silent := authed(t, s)
	for range 3 {
		answering.expect(`{"type":"ping"}`)
		answering.send(`{"type":"pong"}`)
	}
	silent.expect(`{"type":"ping"}`)
	silent.expectClose(websocket.StatusNoStatusRcvd)
}

// f-token-expiry: TOKEN_EXPIRED unprompted, FORBIDDEN per event while expired, delivery
// restored by a refresh_token re-auth, AUTH_TIMEOUT + close without one.
func TestTranscriptTokenExpiry(t *testing.T) {
	s := fixture(t, Options{AuthTimeout: 300 * time.Millisecond})
	p := dial(t, s, "")
	p.send(`{"type":"auth","email":"bot@example.com","password":"bot-password","uid":"login"}`)
	got, _ := p.read(5 * time.Second)
	var ok struct {
		Refresh string `json:"refresh_token"`
	}
	_ = json.Unmarshal([]byte(got), &ok)
	p.send(`{"type":"subscribe","collection":"messages","query":{"fields":["id","text"]},"uid":"sub"}`)
	p.expect(`{"type":"subscription","event":"init","data":[],"uid":"sub"}`)

	s.ExpireTokens()
	p.expect(`{"type":"auth","status":"error","error":{"code":"TOKEN_EXPIRED","message":"Token expired."}}`)
	s.Create("messages", map[string]any{"text": "after expiry"})
	p.expect(`{"type":"subscribe","status":"error","error":{"code":"FORBIDDEN","message":"You don't have permission to access collection \"messages\" or it does not exist. Queried in root."},"uid":"sub"}`)
	p.send(`{"type":"auth","refresh_token":"` + ok.Refresh + `","uid":"reauth"}`)
	got, _ = p.read(5 * time.Second)
	if !strings.Contains(got, `"status":"ok"`) {
		t.Fatalf("re-auth reply %s", got)
	}
	s.Create("messages", map[string]any{"text": "after re-auth"})
	p.expect(`{"type":"subscription","event":"create","data":[{"id":2,"text":"after re-auth"}],"uid":"sub"}`)

	s.ExpireTokens()
	p.expect(
		`{"type":"auth","status":"error","error":{"code":"TOKEN_EXPIRED","message":"Token expired."}}`,
		`{"type":"auth","status":"error","error":{"code":"AUTH_TIMEOUT","message":"Authentication timed out."}}`,
	)
	p.expectClose(websocket.StatusNoStatusRcvd)
}

// i-restart: DropConnections gives 1006.
func TestDropConnectionsIsAbnormal(t *testing.T) {
	s := fixture(t, Options{})
	p := authed(t, s)
	s.DropConnections()
	p.expectClose(websocket.StatusAbnormalClosure)
}

func TestRequestsExceeded(t *testing.T) {
	s := fixture(t, Options{})
	p := authed(t, s)
	s.RejectMessages(1, 250*time.Millisecond)
	p.send(`{"type":"ping","uid":"dropped"}`)
	p.expect(`{"type":"server","status":"error","error":{"code":"REQUESTS_EXCEEDED","message":"Too many messages, retry after 250ms."}}`)
	p.send(`{"type":"ping","uid":"kept"}`)
	p.expect(`{"type":"pong","uid":"kept"}`)
}

func TestStallSilencesTheServer(t *testing.T) {
	s := fixture(t, Options{})
	p := authed(t, s)
	s.Stall(300 * time.Millisecond)
	p.send(`{"type":"ping","uid":"lost"}`)
	p.expectSilence(150 * time.Millisecond)
}
