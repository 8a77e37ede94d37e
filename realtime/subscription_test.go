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
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestAQueueOverItsBytesBecomesOneGap(t *testing.T) {
	g := NewWithT(t)
	c, err := New(Options{Server: Server{URL: "http://directus.invalid", Auth: Auth{AccessToken: "t0k3n-for-tests"}}})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = c.Close() }()
	s := newSubscription(c, SubscribeOptions{Collection: "messages", UID: "s"}, 1000, 1000)
	defer s.shutdown()
	item := func(n int) Message {
		return Message{Kind: KindCreate, Items: []json.RawMessage{json.RawMessage(`"` + strings.Repeat("x", n) + `"`)}, Received: time.Now()}
	}
	s.enqueue(item(400))
	s.enqueue(item(400))
	g.Expect(s.Drain()).To(HaveLen(2), "800 bytes fit in 1000")

	s.enqueue(item(400))
	s.enqueue(item(400))
	s.enqueue(item(400)) // 1,200 bytes: over
	q := s.Drain()
	g.Expect(q).To(HaveLen(1))
	g.Expect(q[0].Kind).To(Equal(KindGap), "what was queued is replaced by a gap: the consumer resynchronises")

	s.enqueue(item(5000))
	g.Expect(s.Drain()).To(HaveLen(1), "one message larger than the bound is still delivered when the queue is empty")
}
