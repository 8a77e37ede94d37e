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
	"errors"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// One connection's life once it is up: its subscriptions sent, re-auth on
// expiry, refresh and rotation, and the JSON-level heartbeat.

// heartbeatTick is how often the supervisor checks liveness.
func (c *Client) heartbeatTick() time.Duration {
	d := min(c.opts.PingInterval, c.opts.PongTimeout) / 4
	return max(5*time.Millisecond, min(d, time.Second))
}

// closeGrace is how long the client waits for the server to close a socket
// whose re-authentication failed before it cuts the connection itself.
const closeGrace = time.Second

// serve runs one connection until it ends or ctx, the client's lifetime, does.
func (c *Client) serve(ctx context.Context, cn *conn, subs []*Subscription) error {
	connCtx, cancelConn := context.WithCancel(context.Background())
	defer cancelConn()
	cn.touch()
	go c.read(connCtx, cn)

	if c.opts.SubscribeGate == nil {
		for _, s := range subs {
			c.sendSubscribe(ctx, cn, s)
		}
	} else {
		var gated sync.WaitGroup
		defer gated.Wait()
		gated.Go(func() { c.sendGated(connCtx, cn, subs) })
	}
	// Slots held for this connection's subscribes come back when it ends:
	// their inits will never arrive.
	defer c.releaseSlots(cn.epoch)

	var reauthWG sync.WaitGroup
	defer reauthWG.Wait()
	reauthDone := make(chan error, 1)
	reauthing := false
	startReauth := func(why string) {
		if reauthing {
			return
		}
		reauthing = true
		reauthWG.Go(func() {
			reauthDone <- c.reauth(connCtx, cn, why)
		})
	}
	refresh := time.NewTimer(time.Hour)
	refresh.Stop()
	defer refresh.Stop()
	scheduleRefresh := func() {
		refresh.Stop()
		if d, ok := c.refreshDelay(cn); ok {
			refresh.Reset(d)
		}
	}
	scheduleRefresh()

	tick := time.NewTicker(c.heartbeatTick())
	defer tick.Stop()
	var pingSent time.Time
	pinging := false
	var forceClose <-chan time.Time
	for {
		select {
		case <-cn.readerDone:
			_ = cn.ws.CloseNow()
			return cn.readErr
		case <-ctx.Done():
			// Graceful close; the reader sees the close handshake and exits.
			_ = cn.ws.Close(websocket.StatusNormalClosure, "")
			cancelConn()
			<-cn.readerDone
			return ErrClosed
		case <-cn.expired:
			startReauth("token expired")
		case <-refresh.C:
			startReauth("refresh")
		case <-c.credsChanged:
			if c.staleToken(cn) {
				startReauth("access token changed")
			}
		case err := <-reauthDone:
			reauthing = false
			if err == nil && c.staleToken(cn) {
				// The token changed again while the last re-auth ran.
				startReauth("access token changed")
			}
			if err != nil {
				c.log.Info("Re-authentication failed", "error", err.Error())
				c.emit(Event{Kind: EventError, State: c.State(), Err: err, Epoch: cn.epoch})
				if se, ok := errors.AsType[*ServerError](err); ok {
					cn.lastErr.Store(se) // the server closes next; this is why
				}
				if !errors.Is(err, context.Canceled) {
					// Directus closes the socket itself after a failed re-auth
					// (1005); cutting it at once would race that close frame
					// and report an abnormal 1006. Give it a moment, then make
					// sure.
					forceClose = time.After(closeGrace)
				}
				continue
			}
			scheduleRefresh()
		case <-forceClose:
			forceClose = nil
			_ = cn.ws.CloseNow()
			continue
		case now := <-tick.C:
			last := time.Unix(0, cn.lastRecv.Load())
			if pinging && last.After(pingSent) {
				pinging = false
			}
			if pinging && now.Sub(pingSent) >= c.opts.PongTimeout {
				c.log.Info("No reply from Directus, dropping the connection", "timeout", c.opts.PongTimeout)
				cn.dead.Store(true)
				_ = cn.ws.CloseNow()
				continue
			}
			if !pinging && now.Sub(last) >= c.opts.PingInterval {
				pingSent, pinging = now, true
				if err := c.write(cn, pingFrame{Type: typePing}); err != nil {
					c.log.V(4).Info("Could not send ping", "error", err.Error())
				}
			}
			if at := cn.resubAt.Load(); at != 0 && now.UnixNano() >= at {
				cn.resubAt.Store(0)
				c.resendAwaitingInit(ctx, cn)
			}
		}
	}
}
