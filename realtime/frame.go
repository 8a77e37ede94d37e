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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// MessageKind is the kind of a Message delivered on a Subscription.
type MessageKind string

const (
	// KindInit is the subscription's snapshot, sent once per connection (Epoch). It carries
	// rows when the subscription has no Event; with an Event it carries none.
	KindInit MessageKind = "init"
	// KindCreate carries one created row.
	KindCreate MessageKind = "create"
	// KindUpdate carries every row one update call changed that still matches the query.
	KindUpdate MessageKind = "update"
	// KindDelete carries the deleted keys.
	KindDelete MessageKind = "delete"
	// KindError carries a server error for this subscription (FORBIDDEN, INVALID_QUERY, ...).
	KindError MessageKind = "error"
	// KindGap means messages for this subscription may have been lost: resynchronise (read
	// the current state again). Emitted on queue overflow and after events were lost while
	// the access token was expired.
	KindGap MessageKind = "gap"
)

// Message is one subscription message.
type Message struct {
	Kind MessageKind
	// UID is the subscription's uid.
	UID string
	// Items holds init/create/update rows exactly as received. For an item subscription
	// ("item" in the subscribe frame) the single object is the only element.
	Items []json.RawMessage
	// Keys holds delete keys normalised to strings: "44" and 44 both give "44".
	Keys []string
	// Data is the frame's "data" exactly as Directus sent it (nil when the frame had none):
	// for tools that show the server's own words, such as delete keys that are strings or
	// numbers depending on how the delete was made. Items and Keys are views of it.
	Data json.RawMessage
	// Meta is the "meta" object (e.g. total_count), when the query asked for it.
	Meta json.RawMessage
	// Err is set for KindError.
	Err *ServerError
	// Epoch is the connection number the message arrived on. It increments on every
	// (re)connect; an init with a new Epoch follows a reconnect.
	Epoch uint64
	// Received is when the frame was read.
	Received time.Time
}

// uid is a frame uid: Directus accepts strings and numbers and echoes subscription uids as
// strings. It is kept as its string form; set reports whether the frame had one.
type uid struct {
	s   string
	set bool
}

func (u *uid) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*u = uid{}
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*u = uid{s: s, set: true}
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("uid is neither a string nor a number: %w", err)
		}
		*u = uid{s: n.String(), set: true}
	}
	return nil
}

// Frame types ({"type": ...}) the client sends or handles itself.
const (
	typeAuth = "auth"
	typePing = "ping"
	typePong = "pong"
	// typeHTTP is ServerError.Type for errors from the REST API.
	typeHTTP = "http"
)

// frame is a decoded server frame.
type frame struct {
	Type         string          `json:"type"`
	Event        string          `json:"event"`
	Status       string          `json:"status"`
	UID          uid             `json:"uid"`
	Data         json.RawMessage `json:"data"`
	Meta         json.RawMessage `json:"meta"`
	Error        *frameError     `json:"error"`
	RefreshToken string          `json:"refresh_token"`
}

type frameError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var errNoType = errors.New(`frame has no "type"`)

// decodeFrame parses one server frame. It never panics; anything that is not a JSON object
// with a string "type" is an error.
func decodeFrame(b []byte) (frame, error) {
	var f frame
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return f, errors.New("frame is not a JSON object")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("decode frame: %w", err)
	}
	if f.Type == "" {
		return frame{}, errNoType
	}
	return f, nil
}

// serverError returns the frame's error as a *ServerError, or nil.
func (f *frame) serverError() *ServerError {
	if f.Status != "error" {
		return nil
	}
	se := &ServerError{Type: f.Type, UID: f.UID.s}
	if f.Error != nil {
		se.Code, se.Message = f.Error.Code, f.Error.Message
	}
	return se
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// splitItems returns the rows of an init/create/update "data": the elements of an array, or
// the object itself (item subscriptions).
func splitItems(data json.RawMessage) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if isNull(data) {
		return nil, nil
	}
	if data[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fmt.Errorf("decode data: %w", err)
		}
		return items, nil
	}
	if data[0] == '{' {
		return []json.RawMessage{data}, nil
	}
	return nil, fmt.Errorf("data is neither an array nor an object")
}

// splitKeys normalises delete "data" (an array of keys, or a bare key for item subscriptions)
// to strings.
func splitKeys(data json.RawMessage) ([]string, error) {
	data = bytes.TrimSpace(data)
	if isNull(data) {
		return nil, nil
	}
	var raw []json.RawMessage
	if data[0] == '[' {
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("decode keys: %w", err)
		}
	} else {
		raw = []json.RawMessage{data}
	}
	keys := make([]string, 0, len(raw))
	for _, r := range raw {
		k, err := keyString(r)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func keyString(r json.RawMessage) (string, error) {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return "", errors.New("empty key")
	}
	if r[0] == '"' {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return "", fmt.Errorf("decode key: %w", err)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(r, &n); err != nil {
		return "", fmt.Errorf("key is neither a string nor a number: %w", err)
	}
	// 44 and 44.0 are the same key.
	if f, err := n.Float64(); err == nil && f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10), nil
	}
	return n.String(), nil
}

// subscriptionMessage converts a "subscription" frame into a Message.
func subscriptionMessage(f *frame, epoch uint64, now time.Time) (Message, error) {
	m := Message{UID: f.UID.s, Meta: f.Meta, Epoch: epoch, Received: now}
	if !isNull(f.Data) {
		m.Data = f.Data
	}
	var err error
	switch kind := MessageKind(f.Event); kind {
	case KindInit, KindCreate, KindUpdate:
		m.Kind = kind
		m.Items, err = splitItems(f.Data)
	case KindDelete:
		m.Kind = kind
		m.Keys, err = splitKeys(f.Data)
	default:
		return Message{}, fmt.Errorf("unknown subscription event %q", f.Event)
	}
	if err != nil {
		return Message{}, err
	}
	return m, nil
}
