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
	"sync"
	"time"
)

// Options.SubscribeGate: subscribe frames sent one slot at a time, each slot
// held until the subscription's init arrives or its connection ends.

// sendSubscribe sends s's subscribe frame on cn.
func (c *Client) sendSubscribe(ctx context.Context, cn *conn, s *Subscription) {
	if err := c.send(ctx, cn, s.frame()); err != nil {
		// The connection is going away; the subscription is re-sent after reconnecting.
		c.log.V(4).Info("Could not send subscribe", "uid", s.uid, "error", err.Error())
		s.releaseSlot(cn.epoch)
	}
}

// sendGated sends the subscriptions of a new connection one slot of SubscribeGate at a
// time, until ctx (the connection's) ends.
func (c *Client) sendGated(ctx context.Context, cn *conn, subs []*Subscription) {
	for _, s := range subs {
		release, err := c.opts.SubscribeGate(ctx)
		if err != nil {
			return
		}
		if s.holdSlot(cn.epoch, release) {
			c.sendSubscribe(ctx, cn, s)
		}
	}
}

// releaseSlots gives back every slot held for the connection with this epoch.
func (c *Client) releaseSlots(epoch uint64) {
	c.mu.Lock()
	subs := make([]*Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.releaseSlot(epoch)
	}
}

// subscribeSlotTimeout is the longest a subscribe holds its SubscribeGate slot.
const subscribeSlotTimeout = 30 * time.Second

// holdSlot keeps release until the init on the connection with this epoch arrives (or
// that connection ends). It reports false, having released it, when the subscription is
// closed, not to be sent on that connection, or already has its init there.
func (s *Subscription) holdSlot(epoch uint64, release func()) bool {
	s.mu.Lock()
	if s.closed || s.sentEpoch != epoch || s.initEpoch == epoch {
		s.mu.Unlock()
		release()
		return false
	}
	// A server that never answers must not keep the slot: it is only a
	// bound on the work asked at once.
	once := sync.OnceFunc(release)
	t := time.AfterFunc(subscribeSlotTimeout, once)
	prev := s.slot
	s.slot, s.slotEpoch = func() { t.Stop(); once() }, epoch
	s.mu.Unlock()
	if prev != nil {
		prev()
	}
	return true
}

// releaseSlot gives back the slot held for the connection with this epoch (0: any).
func (s *Subscription) releaseSlot(epoch uint64) {
	s.mu.Lock()
	release := s.slot
	if release == nil || (epoch != 0 && s.slotEpoch != epoch) {
		s.mu.Unlock()
		return
	}
	s.slot = nil
	s.mu.Unlock()
	release()
}
