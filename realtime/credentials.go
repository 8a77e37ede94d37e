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

import "errors"

// ErrNotStaticToken is returned by SetAccessToken when the credentials are
// not a static access token: email and password, and refresh tokens, renew
// themselves.
var ErrNotStaticToken = errors.New("directus: only a static access token can be replaced")

// SetAccessToken replaces the static access token, as when a mounted Secret
// was rotated. A connected socket re-authenticates at once with an auth
// frame: Directus accepts one at any time and swaps the socket's identity
// while its subscriptions keep delivering. The new identity may see other
// items than the old one, so every subscription then gets a KindGap and its
// owner reads again. If Directus refuses the new token it closes the socket,
// and the reconnect loop keeps trying with the newest token. Every later
// connection uses the new token; the old one is never sent again.
func (c *Client) SetAccessToken(token string) error {
	if c.rotating() || c.opts.Auth.AccessToken == "" {
		return ErrNotStaticToken
	}
	c.mu.Lock()
	if token == "" || token == c.token {
		c.mu.Unlock()
		return nil
	}
	// The old token stays redacted from errors.
	c.retired = append(c.retired, c.token)
	c.token = token
	c.mu.Unlock()
	select {
	case c.credsChanged <- struct{}{}:
	default:
	}
	return nil
}

// auth returns the credentials with the current static token.
func (c *Client) auth() Auth {
	a := c.opts.Auth
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.AccessToken != "" {
		a.AccessToken = c.token
	}
	return a
}

// staleToken tells whether cn authenticated with another static token than
// the current one.
func (c *Client) staleToken(cn *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.rotating() && cn.token != c.token
}

// SetAccessToken replaces the static access token for the next requests;
// see Client.SetAccessToken.
func (r *REST) SetAccessToken(token string) error {
	if r.rotating() || r.o.Auth.AccessToken == "" {
		return ErrNotStaticToken
	}
	if token != "" {
		r.mu.Lock()
		r.static = token
		r.mu.Unlock()
	}
	return nil
}
