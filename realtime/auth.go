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
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// authFrame is {"type":"auth",...}. Its fields are secrets: never log it.
type authFrame struct {
	Type         string `json:"type"`
	AccessToken  string `json:"access_token,omitempty"`
	Email        string `json:"email,omitempty"`
	Password     string `json:"password,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	UID          string `json:"uid,omitempty"`
}

// authPlan is how the next connection authenticates.
type authPlan struct {
	urlToken    string     // ?access_token= on the upgrade
	frame       *authFrame // first frame, nil when none is needed
	expires     time.Time  // expiry of the identity when known from REST
	usedRefresh bool       // frame uses the refresh token
	static      string     // the static access token used, if any
}

func (c *Client) secrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{c.token, c.opts.Auth.Password, c.opts.Auth.RefreshToken, c.refresh, c.access}, c.retired...)
}

// plan decides how to authenticate the next connection. With email+password or a refresh
// token it prefers an access token from REST (POST /auth/login or /auth/refresh), because
// only REST tells the token lifetime; the socket auth reply never does.
func (c *Client) plan(ctx context.Context) (authPlan, error) {
	a := c.auth()
	if a.empty() {
		return authPlan{}, nil
	}
	if !c.rotating() {
		if c.opts.TokenInURL {
			return authPlan{urlToken: a.AccessToken, static: a.AccessToken}, nil
		}
		return authPlan{frame: &authFrame{Type: typeAuth, AccessToken: a.AccessToken}, static: a.AccessToken}, nil
	}
	useAccess := func(tok string, exp time.Time) authPlan {
		if c.opts.TokenInURL {
			return authPlan{urlToken: tok, expires: exp}
		}
		return authPlan{frame: &authFrame{Type: typeAuth, AccessToken: tok}, expires: exp}
	}
	c.mu.Lock()
	access, exp, lifetime := c.access, c.accessExpires, c.lifetime
	refresh, usable := c.refresh, c.refresh != "" && !c.refreshBad
	c.mu.Unlock()
	if access != "" && time.Until(exp) > max(lifetime/5, time.Second) {
		return useAccess(access, exp), nil
	}
	if c.opts.TokenInURL || lifetime == 0 {
		tok, exp, err := c.restTokens(ctx)
		if err == nil {
			return useAccess(tok, exp), nil
		}
		var se *ServerError
		if errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 {
			return authPlan{}, &ServerError{Type: typeAuth, Code: CodeAuthFailed, Message: se.Message, StatusCode: se.StatusCode}
		}
		if c.opts.TokenInURL {
			return authPlan{}, err
		}
		c.log.V(4).Info("REST login unavailable, authenticating on the socket", "error", err.Error())
		c.mu.Lock()
		refresh, usable = c.refresh, c.refresh != "" && !c.refreshBad
		c.mu.Unlock()
	}
	if usable {
		return authPlan{frame: &authFrame{Type: typeAuth, RefreshToken: refresh}, usedRefresh: true}, nil
	}
	if a.login() {
		return authPlan{frame: &authFrame{Type: typeAuth, Email: a.Email, Password: a.Password}}, nil
	}
	return authPlan{}, &ServerError{Type: typeAuth, Code: CodeAuthFailed,
		Message: "the refresh token was refused and there is no email and password to log in with"}
}

// restTokens gets a fresh access token over REST: refresh with the newest refresh token,
// else (or when it is refused) log in with email and password. It records the tokens and
// the lifetime.
func (c *Client) restTokens(ctx context.Context) (string, time.Time, error) {
	c.mu.Lock()
	refresh, usable := c.refresh, c.refresh != "" && !c.refreshBad
	c.mu.Unlock()
	var ts tokenSet
	var err error
	if usable {
		ts, err = refreshRequest(ctx, c.opts.HTTPClient, c.restURL.String(), refresh)
		if err != nil {
			var se *ServerError
			if !errors.As(err, &se) || !c.opts.Auth.login() {
				return "", time.Time{}, redact(err, c.secrets()...)
			}
			c.mu.Lock()
			if c.refresh == refresh {
				c.refreshBad = true
			}
			c.mu.Unlock()
		}
	}
	if !usable || err != nil {
		if !c.opts.Auth.login() {
			return "", time.Time{}, &ServerError{Type: typeAuth, Code: CodeAuthFailed, Message: "no usable refresh token"}
		}
		ts, err = loginRequest(ctx, c.opts.HTTPClient, c.restURL.String(), c.opts.Auth.Email, c.opts.Auth.Password)
		if err != nil {
			return "", time.Time{}, redact(err, c.secrets()...)
		}
	}
	lifetime := time.Duration(ts.Expires) * time.Millisecond
	exp := time.Now().Add(lifetime)
	c.mu.Lock()
	c.access, c.accessExpires, c.lifetime = ts.AccessToken, exp, lifetime
	if ts.RefreshToken != "" {
		c.refresh, c.refreshBad = ts.RefreshToken, false
	}
	c.mu.Unlock()
	return ts.AccessToken, exp, nil
}

// dial opens and authenticates one connection.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	if c.opts.Gate != nil {
		release, err := c.opts.Gate(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	plan, err := c.plan(ctx)
	if err != nil {
		return nil, err
	}
	u := *c.wsURL
	if plan.urlToken != "" {
		q := u.Query()
		q.Set("access_token", plan.urlToken)
		u.RawQuery = q.Encode()
	}
	dctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	ws, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: c.opts.HTTPClient})
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, handshakeError(resp)
		}
		return nil, redact(fmt.Errorf("directus: dial %s: %w", c.wsURL.Redacted(), err), append(c.secrets(), plan.urlToken)...)
	}
	// The read limit is enforced per frame by readFrame, so that an oversized frame is
	// skipped instead of killing the connection.
	ws.SetReadLimit(-1)
	cn := &conn{ws: ws, expired: make(chan struct{}, 1), readerDone: make(chan struct{}), expires: plan.expires, token: plan.static}
	c.emit(Event{Kind: EventOpen, State: c.State()})
	if plan.frame == nil {
		return cn, nil
	}
	if err := c.handshake(ctx, cn, plan); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	return cn, nil
}

func handshakeError(resp *http.Response) error {
	he := &HandshakeError{StatusCode: resp.StatusCode}
	if resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if se := parseErrorBody(b, resp.StatusCode); se != nil {
			he.Code, he.Message = se.Code, se.Message
		}
	}
	return he
}

// handshake sends the first auth frame and reads until its reply (handshake failures carry
// no uid, so any auth frame answers it).
func (c *Client) handshake(ctx context.Context, cn *conn, plan authPlan) error {
	actx, cancel := context.WithTimeout(ctx, c.opts.AuthTimeout)
	defer cancel()
	fr := *plan.frame
	fr.UID = c.nextUID("_auth")
	if err := c.write(cn, fr); err != nil {
		return redact(err, c.secrets()...)
	}
	var lastErr *ServerError
	for {
		b, err := c.readFrame(actx, cn.ws)
		if err != nil {
			if _, ok := errors.AsType[*badFrameError](err); ok {
				continue
			}
			if lastErr != nil {
				return lastErr
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if actx.Err() != nil {
				return fmt.Errorf("directus: no auth reply within %s: %w", c.opts.AuthTimeout, context.DeadlineExceeded)
			}
			return fmt.Errorf("directus: connection closed during auth: %w", err)
		}
		f, err := decodeFrame(b)
		if err != nil {
			continue
		}
		if f.Type == typePing {
			_ = c.write(cn, pingFrame{Type: typePong})
			continue
		}
		se := f.serverError()
		if f.Type != typeAuth {
			if se != nil {
				lastErr = se
			}
			continue
		}
		if se != nil {
			if plan.usedRefresh && se.Code == CodeAuthFailed {
				c.refreshRefused(fr.RefreshToken)
			}
			return se
		}
		c.authOK(cn, plan, f.RefreshToken)
		return nil
	}
}

func (c *Client) refreshRefused(tok string) {
	c.mu.Lock()
	if c.refresh == tok {
		c.refreshBad = true
	}
	c.mu.Unlock()
}

// authOK records a successful auth on cn.
func (c *Client) authOK(cn *conn, plan authPlan, newRefresh string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if newRefresh != "" {
		c.refresh, c.refreshBad = newRefresh, false
	}
	switch {
	case !plan.expires.IsZero():
		cn.expires = plan.expires
	case c.rotating() && c.lifetime > 0 && (plan.frame != nil && plan.frame.AccessToken == ""):
		cn.expires = time.Now().Add(c.lifetime)
	default:
		cn.expires = time.Time{}
	}
}

// refreshDelay is when to re-authenticate cn proactively: at 80% of the token's lifetime.
func (c *Client) refreshDelay(cn *conn) (time.Duration, bool) {
	c.mu.Lock()
	lifetime, expires := c.lifetime, cn.expires
	c.mu.Unlock()
	if !c.rotating() || expires.IsZero() {
		return 0, false
	}
	remaining := time.Until(expires)
	d := remaining - lifetime/5
	if lifetime == 0 {
		d = remaining * 4 / 5
	}
	return max(d, 50*time.Millisecond), true
}

// reauth authenticates the open socket again: with the newest refresh token, or by logging in.
// Subscriptions survive; after a TOKEN_EXPIRED each gets a KindGap, since events were lost.
func (c *Client) reauth(ctx context.Context, cn *conn, why string) error {
	c.log.V(4).Info("Re-authenticating", "reason", why)
	a := c.auth()
	c.mu.Lock()
	refresh, usable := c.refresh, c.refresh != "" && !c.refreshBad
	c.mu.Unlock()
	var plan authPlan
	switch {
	case usable:
		plan = authPlan{frame: &authFrame{Type: typeAuth, RefreshToken: refresh}, usedRefresh: true}
	case a.login():
		if tok, exp, err := c.restTokens(ctx); err == nil {
			plan = authPlan{frame: &authFrame{Type: typeAuth, AccessToken: tok}, expires: exp}
		} else {
			plan = authPlan{frame: &authFrame{Type: typeAuth, Email: a.Email, Password: a.Password}}
		}
	case a.AccessToken != "":
		plan = authPlan{frame: &authFrame{Type: typeAuth, AccessToken: a.AccessToken}, static: a.AccessToken}
	default:
		return nil
	}
	fr := *plan.frame
	fr.UID = c.nextUID("_auth")
	actx, cancel := context.WithTimeout(ctx, c.opts.AuthTimeout)
	defer cancel()
	f, err := c.request(actx, fr.UID, fr)
	if err != nil {
		if plan.usedRefresh && IsCode(err, CodeAuthFailed) {
			c.refreshRefused(refresh)
		}
		return redact(err, c.secrets()...)
	}
	c.authOK(cn, plan, f.RefreshToken)
	c.mu.Lock()
	wasExpired := c.tokenExpired
	c.tokenExpired = false
	// Another identity may see other items: its subscriptions read again.
	newIdentity := plan.static != "" && cn.token != plan.static
	if plan.static != "" {
		cn.token = plan.static
	}
	var subs []*Subscription
	if wasExpired || newIdentity {
		for _, s := range c.subs {
			subs = append(subs, s)
		}
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.gap(cn.epoch)
	}
	c.log.V(4).Info("Re-authenticated", "reason", why)
	c.emit(Event{Kind: EventAuthenticated, State: StateConnected, Epoch: cn.epoch})
	return nil
}

// jwtTimes reads iat and exp from a JWT without verifying it.
func jwtTimes(tok string) (iat, exp time.Time, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return
	}
	var claims struct {
		Iat int64 `json:"iat"`
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &claims) != nil || claims.Exp == 0 || claims.Iat == 0 || claims.Exp <= claims.Iat {
		return
	}
	return time.Unix(claims.Iat, 0), time.Unix(claims.Exp, 0), true
}

// tokenSet is the "data" of /auth/login and /auth/refresh in json mode.
type tokenSet struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Expires      int64  `json:"expires"` // milliseconds
}

// refreshRequest exchanges a refresh token for a new token set (POST /auth/refresh; JSON
// mode, so the tokens come back in the body rather than in a cookie).
func refreshRequest(ctx context.Context, hc *http.Client, base, refresh string) (tokenSet, error) {
	return authRequest(ctx, hc, base, "/auth/refresh", map[string]string{"refresh_token": refresh, "mode": tokenModeJSON})
}

// loginRequest logs in with email and password (POST /auth/login, JSON mode).
func loginRequest(ctx context.Context, hc *http.Client, base, email, password string) (tokenSet, error) {
	return authRequest(ctx, hc, base, "/auth/login", map[string]string{"email": email, "password": password, "mode": tokenModeJSON})
}

// authRequest POSTs body to base+path and decodes the token set.
// maxAuthResponseBytes bounds a login or refresh answer: a token set is a few KiB.
const maxAuthResponseBytes = 1 << 20

// tokenModeJSON asks Directus's auth endpoints for tokens in the reply body,
// not in a cookie.
const tokenModeJSON = "json"

func authRequest(ctx context.Context, hc *http.Client, base, path string, body any) (tokenSet, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return tokenSet{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+path, bytes.NewReader(b))
	if err != nil {
		return tokenSet{}, fmt.Errorf("directus: POST %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return tokenSet{}, fmt.Errorf("directus: POST %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	rb, err := readBounded(resp.Body, maxAuthResponseBytes, "POST "+path)
	if err != nil {
		return tokenSet{}, err
	}
	if resp.StatusCode/100 != 2 {
		if se := parseErrorBody(rb, resp.StatusCode); se != nil {
			return tokenSet{}, se
		}
		return tokenSet{}, &ServerError{Type: typeHTTP, Code: http.StatusText(resp.StatusCode), Message: "POST " + path, StatusCode: resp.StatusCode}
	}
	var out struct {
		Data tokenSet `json:"data"`
	}
	if err := json.Unmarshal(rb, &out); err != nil || out.Data.AccessToken == "" {
		return tokenSet{}, fmt.Errorf("directus: POST %s: unexpected response", path)
	}
	return out.Data, nil
}

// parseErrorBody reads Directus's {"errors":[{"message":..,"extensions":{"code":..}}]}.
func parseErrorBody(b []byte, status int) *ServerError {
	var body struct {
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &body) != nil || len(body.Errors) == 0 {
		return nil
	}
	e := body.Errors[0]
	return &ServerError{Type: typeHTTP, Code: e.Extensions.Code, Message: e.Message, StatusCode: status}
}
