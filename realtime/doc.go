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

// Package realtime is a client for the Directus realtime (WebSocket) API, the Go equivalent
// of the JS SDK's realtime() composable, plus a small REST companion for resynchronising.
// It imports nothing from Kubernetes.
//
// # Setup
//
// Directus must run with WEBSOCKETS_ENABLED=true (otherwise /websocket answers 404 and
// Connect returns an error matching ErrRealtimeDisabled). Match Options.AuthMode to the
// server's WEBSOCKETS_REST_AUTH (handshake by default). Credentials are a static token
// (a user's "token" field, which never expires), email and password, or a refresh token.
//
// # Usage
//
//	srv := realtime.Server{
//		URL:  "https://directus.example.com",
//		Auth: realtime.Auth{AccessToken: os.Getenv("DIRECTUS_TOKEN")},
//	}
//	c, err := realtime.New(realtime.Options{Server: srv})
//	if err != nil { ... }
//	defer c.Close()
//	if err := c.Connect(ctx); err != nil { ... } // *HandshakeError, *ServerError, ...
//	sub, err := c.Subscribe(ctx, realtime.SubscribeOptions{Collection: "messages"})
//	for m := range sub.C() {
//		switch m.Kind {
//		case realtime.KindInit: // the current rows (again after every reconnect: new Epoch)
//		case realtime.KindCreate, realtime.KindUpdate: // m.Items
//		case realtime.KindDelete: // m.Keys
//		case realtime.KindError: // m.Err, e.g. FORBIDDEN
//		case realtime.KindGap: // messages were lost: read the state again (REST.ReadAll)
//		}
//	}
//
// Subscribe may be called before Connect. Options.OnEvent observes the lifecycle (open,
// authenticated, close with its code and cause, reconnecting, gave up); Done and Err tell
// when and why the client stopped for good.
//
// # Implementation considerations
//
// What the server really does was recorded from Directus 12 and drives the design:
//
//   - Nothing is replayed. After a reconnect every live subscription is sent again with the
//     same uid and gets a fresh init (KindInit with the next Epoch); that init is the only
//     recovery, so without an Event filter it carries the rows (capped at 100 by
//     QUERY_LIMIT_DEFAULT unless the query sets "limit").
//   - The server closes without a status code (1005); the cause is the error frame sent just
//     before, which the close Event carries in Err. A restart shows as 1006.
//   - Heartbeat: Directus sends {"type":"ping"} and closes sockets that stay silent for a
//     period; it never answers WebSocket control pings. One goroutine always reads, answers
//     pings at once and never waits on consumers: each subscription has its own bounded queue
//     and goroutine; when a queue overflows it is cleared and a KindGap queued. The client also
//     sends its own JSON ping when the line is quiet and treats silence past PongTimeout as a
//     dead peer.
//   - Tokens: the socket's auth reply has no expiry, so with email and password the client
//     logs in over REST first (which tells the lifetime), authenticates the socket with that
//     access token and re-authenticates with the newest refresh token at 80% of the lifetime.
//     An unprompted TOKEN_EXPIRED is answered by an immediate re-auth; the socket and its
//     subscriptions stay, events lost meanwhile (FORBIDDEN frames) become one KindGap.
//     Refresh tokens rotate; the client keeps the newest (RefreshToken).
//   - Reconnects use capped exponential backoff with jitter (Backoff), sleep in a select that
//     Close ends, and start a new reader only after the old one has exited.
//   - REQUESTS_EXCEEDED (rate limiting) delays the next sends by the advertised time and
//     re-sends subscribes that got no init; it never ends the connection. Bad frames (not
//     JSON, unknown types, larger than ReadLimit) are reported as EventError (errors.Is
//     ErrBadFrame) and skipped; a mirror should resynchronise, as the frame may have been a
//     change.
//   - Errors are typed (ServerError, HandshakeError, sentinels for errors.Is) and never
//     contain tokens or passwords.
//
// The package realtime/fakedirectus is an in-process fake server reproducing those
// behaviours, for tests.
package realtime
