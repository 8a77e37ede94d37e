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
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"
)

// receivedFrames are every distinct frame the transcripts show a client receiving.
func receivedFrames(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/received-frames.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func TestDecodeFrame(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Message
		err  bool
	}{
		{in: `{"type":"subscription","event":"init","uid":"msgs"}`, want: Message{Kind: KindInit, UID: "msgs"}},
		{in: `{"type":"subscription","event":"init","data":[{"id":1},{"id":2}],"uid":"all"}`,
			want: Message{Kind: KindInit, UID: "all", Items: []json.RawMessage{json.RawMessage(`{"id":1}`), json.RawMessage(`{"id":2}`)}, Data: json.RawMessage(`[{"id":1},{"id":2}]`)}},
		{in: `{"type":"subscription","event":"init","data":{"id":54,"text":"b2"},"uid":"item-num"}`,
			want: Message{Kind: KindInit, UID: "item-num", Items: []json.RawMessage{json.RawMessage(`{"id":54,"text":"b2"}`)}, Data: json.RawMessage(`{"id":54,"text":"b2"}`)}},
		{in: `{"type":"subscription","event":"delete","data":["44"],"uid":"all"}`, want: Message{Kind: KindDelete, UID: "all", Keys: []string{"44"}, Data: json.RawMessage(`["44"]`)}},
		{in: `{"type":"subscription","event":"delete","data":[45,46],"uid":"all"}`, want: Message{Kind: KindDelete, UID: "all", Keys: []string{"45", "46"}, Data: json.RawMessage(`[45,46]`)}},
		{in: `{"type":"subscription","event":"delete","data":"54","uid":"item-num"}`, want: Message{Kind: KindDelete, UID: "item-num", Keys: []string{"54"}, Data: json.RawMessage(`"54"`)}},
		{in: `{"type":"subscription","event":"create","data":[{"id":57}],"uid":7}`, want: Message{Kind: KindCreate, UID: "7", Items: []json.RawMessage{json.RawMessage(`{"id":57}`)}, Data: json.RawMessage(`[{"id":57}]`)}},
		{in: `{"type":"subscription","event":"update","data":[{"id":1}],"meta":{"total_count":9},"uid":"a"}`,
			want: Message{Kind: KindUpdate, UID: "a", Items: []json.RawMessage{json.RawMessage(`{"id":1}`)}, Meta: json.RawMessage(`{"total_count":9}`), Data: json.RawMessage(`[{"id":1}]`)}},
		{in: `{"type":"subscription","event":"delete","data":[{"x":1}],"uid":"a"}`, err: true},
		{in: `{"type":"subscription","event":"upsert","uid":"a"}`, err: true},
	} {
		f, err := decodeFrame([]byte(tc.in))
		if err != nil {
			t.Fatalf("decodeFrame(%s): %v", tc.in, err)
		}
		m, err := subscriptionMessage(&f, 3, time.Time{})
		if tc.err {
			if err == nil {
				t.Errorf("subscriptionMessage(%s) succeeded", tc.in)
			}
			continue
		}
		tc.want.Epoch = 3
		if err != nil || !reflect.DeepEqual(m, tc.want) {
			t.Errorf("subscriptionMessage(%s) = %+v, %v; want %+v", tc.in, m, err, tc.want)
		}
	}
	for _, bad := range []string{``, `[1,2,3]`, `"hello"`, `{"type":`, `{"collection":"x"}`, `{"type":"x","uid":{}}`} {
		if _, err := decodeFrame([]byte(bad)); err == nil {
			t.Errorf("decodeFrame(%q) succeeded", bad)
		}
	}
	f, _ := decodeFrame([]byte(`{"type":"auth","status":"error","error":{"code":"TOKEN_EXPIRED","message":"Token expired."}}`))
	if se := f.serverError(); se == nil || se.Code != CodeTokenExpired || se.Error() != "directus: TOKEN_EXPIRED: Token expired." {
		t.Errorf("serverError() = %v", se)
	}
}

// TestMessageDataIsVerbatim proves Data keeps the server's own bytes, which
// Keys normalises: a delete made through the REST URL sends its key as a
// string, other deletes send numbers.
func TestMessageDataIsVerbatim(t *testing.T) {
	for _, tc := range []struct{ in, data string }{
		{`{"type":"subscription","event":"delete","data":["44"],"uid":"all"}`, `["44"]`},
		{`{"type":"subscription","event":"delete","data":[ 45, 46.0 ],"uid":"all"}`, `[ 45, 46.0 ]`},
		{`{"type":"subscription","event":"create","data":[{"text":"é","id":1}],"uid":"all"}`, `[{"text":"é","id":1}]`},
		{`{"type":"subscription","event":"init","uid":"msgs"}`, ``},
		{`{"type":"subscription","event":"init","data":null,"uid":"msgs"}`, ``},
	} {
		f, err := decodeFrame([]byte(tc.in))
		if err != nil {
			t.Fatalf("decodeFrame(%s): %v", tc.in, err)
		}
		m, err := subscriptionMessage(&f, 1, time.Time{})
		if err != nil {
			t.Fatalf("subscriptionMessage(%s): %v", tc.in, err)
		}
		if string(m.Data) != tc.data || (tc.data == "" && m.Data != nil) {
			t.Errorf("subscriptionMessage(%s).Data = %q, want %q", tc.in, m.Data, tc.data)
		}
	}
}

func TestEveryRecordedFrameDecodes(t *testing.T) {
	for _, s := range receivedFrames(t) {
		f, err := decodeFrame([]byte(s))
		if err != nil {
			t.Errorf("decodeFrame(%s): %v", s, err)
			continue
		}
		if f.Type == "subscription" && f.Event != "unsubscribe" {
			if _, err := subscriptionMessage(&f, 1, time.Time{}); err != nil {
				t.Errorf("subscriptionMessage(%s): %v", s, err)
			}
		}
	}
}

// FuzzDecodeFrame checks that decoding never panics and that whatever decodes can be turned
// into a Message or an error without panicking.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range receivedFrames(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		if fr.Type == "" {
			t.Fatal("decoded a frame without type")
		}
		_ = fr.serverError()
		m, err := subscriptionMessage(&fr, 1, time.Time{})
		if err == nil && m.Kind == "" {
			t.Fatal("message without kind")
		}
	})
}

const createFrame = `{"type":"subscription","event":"create","data":[{"id":44,"date_created":"2026-11-27T09:02:33.342Z","text":"new","user":"alice"}],"uid":"all"}`

func BenchmarkDecodeCreateFrame(b *testing.B) {
	data := []byte(createFrame)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		f, err := decodeFrame(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := subscriptionMessage(&f, 1, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeInitFrame100Rows(b *testing.B) {
	rows := make([]map[string]any, 100)
	for i := range rows {
		rows[i] = map[string]any{"id": i, "text": "some text", "user": "alice", "date_created": "2026-11-27T09:02:33.342Z"}
	}
	data, _ := json.Marshal(map[string]any{"type": "subscription", "event": "init", "data": rows, "uid": "all"})
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		f, _ := decodeFrame(data)
		if _, err := subscriptionMessage(&f, 1, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatch measures the read loop's work per create frame: decode, look up the
// subscription, queue the message; a consumer drains the channel.
func BenchmarkDispatch(b *testing.B) {
	c, err := New(Options{Server: Server{URL: "http://127.0.0.1:1", Auth: Auth{AccessToken: "x"}}, SubscriptionBuffer: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	sub, err := c.Subscribe(b.Context(), SubscribeOptions{Collection: "messages", UID: "all"})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range sub.C() {
		}
	}()
	cn := &conn{epoch: 1, expired: make(chan struct{}, 1), readerDone: make(chan struct{})}
	data := []byte(createFrame)
	b.ReportAllocs()
	for b.Loop() {
		c.handle(cn, data)
	}
	b.StopTimer()
	_ = c.Close()
	<-done
}
