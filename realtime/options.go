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
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// AuthMode is how the socket authenticates; it mirrors the server's WEBSOCKETS_REST_AUTH.
type AuthMode string

const (
	// AuthHandshake (the default) sends {"type":"auth",...} as the first frame after the upgrade.
	AuthHandshake AuthMode = "handshake"
	// AuthStrict puts the access token on the upgrade URL as ?access_token=. With email and
	// password or a refresh token, the client first gets an access token over REST.
	AuthStrict AuthMode = "strict"
	// AuthPublic connects without credentials (the Public role). If credentials are set, they
	// are sent in an auth frame after the upgrade, like in handshake mode.
	AuthPublic AuthMode = "public"
)

// Auth holds credentials. Set AccessToken, or Email and Password, or RefreshToken (or
// nothing, in public mode). None of these ever appears in errors or logs.
type Auth struct {
	// AccessToken is a static token (a user's "token" field, never expires) or a JWT.
	AccessToken string
	// Email and Password log in. The client logs in over REST (POST /auth/login) to learn the
	// token lifetime, then refreshes on the socket before it expires.
	Email, Password string
	// RefreshToken authenticates with {"type":"auth","refresh_token":...}. Refresh tokens
	// rotate: the client always keeps the newest one (see Client.RefreshToken).
	RefreshToken string
}

func (a Auth) empty() bool {
	return a.AccessToken == "" && a.Email == "" && a.Password == "" && a.RefreshToken == ""
}

func (a Auth) login() bool { return a.Email != "" && a.Password != "" }

// ReconnectOptions configures reconnection after a lost connection. The delay before attempt n
// is InitialDelay*Multiplier^(n-1), capped at MaxDelay, with ±Jitter of random spread.
type ReconnectOptions struct {
	// InitialDelay is the delay before the first reconnect attempt. Defaults to 500ms.
	InitialDelay time.Duration
	// MaxDelay caps the delay. Defaults to 30s.
	MaxDelay time.Duration
	// Multiplier is the growth factor between attempts. Defaults to 2.
	Multiplier float64
	// Jitter spreads each delay by up to ±Jitter of itself. Defaults to 0.2; set a negative
	// value for no jitter.
	Jitter float64
	// MaxAttempts is the number of consecutive failed attempts after which the client gives
	// up (Done is closed, Err wraps ErrGaveUp). Defaults to 0: retry forever.
	MaxAttempts int
	// Disabled turns reconnection off: the first lost connection stops the client.
	Disabled bool
}

// Server says which Directus to reach and how: its URL, the credentials, the HTTP client,
// and where logs go. Options and RESTOptions both embed it, so a caller that uses a Client
// and a REST client against one server sets these once and hands the same Server to both:
//
//	srv := realtime.Server{URL: "https://directus.example.com", Auth: realtime.Auth{AccessToken: token}}
//	c, err := realtime.New(realtime.Options{Server: srv})
//	...
//	r, err := realtime.NewREST(realtime.RESTOptions{Server: srv})
//
// With Options in hand, RESTOptions{Server: opts.Server} reaches the same server. Only URL
// is required.
type Server struct {
	// URL is the base URL of Directus: http(s):// or ws(s)://, possibly with a path prefix
	// (https://example.com/cms). A REST client maps ws(s) to http(s). Required.
	URL string
	// Auth holds the credentials: a static token (a REST client sends it as a Bearer token),
	// email and password (logged in with POST /auth/login, refreshed with /auth/refresh), or
	// a refresh token. Empty means the Public role, which a Client allows only in AuthPublic
	// mode.
	Auth Auth
	// TLSConfig is used for wss:// and https:// when HTTPClient is nil.
	TLSConfig *tls.Config
	// HTTPClient makes the HTTP requests: a Client's upgrade and logins, and every request of
	// a REST client. Defaults to a client with TLSConfig and no overall timeout (deadlines
	// come from contexts). Unless it has a CheckRedirect of its own, redirects are followed
	// only within the URL's host and never from https to http (a *RedirectError otherwise),
	// so credentials stay with that host.
	HTTPClient *http.Client
	// Logger receives logs: Info for state transitions, V(4) for mechanics. Defaults to a
	// discarding logger.
	Logger logr.Logger
}

// setServerDefaults gives s its default HTTP client (with the redirect policy) and logger.
func (s *Server) setServerDefaults() {
	if s.HTTPClient == nil {
		s.HTTPClient = defaultHTTPClient(s.TLSConfig)
	}
	s.HTTPClient = withRedirectPolicy(s.HTTPClient)
	if s.Logger.GetSink() == nil {
		s.Logger = logr.Discard()
	}
}

// Options configures a Client. Only Server.URL is required.
type Options struct {
	// Server is the Directus to connect to: URL, credentials, HTTP client and logger.
	Server
	// Path is the realtime endpoint below URL (WEBSOCKETS_REST_PATH). Defaults to "/websocket".
	Path string
	// AuthMode is the server's auth mode. Defaults to AuthHandshake.
	AuthMode AuthMode
	// TokenInURL sends the access token as ?access_token= on the upgrade instead of in an auth
	// frame. Implied by AuthStrict. Defaults to false.
	TokenInURL bool
	// DialTimeout bounds the TCP+TLS+upgrade. Defaults to 10s.
	DialTimeout time.Duration
	// AuthTimeout bounds the wait for an auth reply (the server's own window is
	// WEBSOCKETS_REST_AUTH_TIMEOUT, 10s by default). Defaults to 10s.
	AuthTimeout time.Duration
	// WriteTimeout bounds each frame write. Defaults to 10s.
	WriteTimeout time.Duration
	// PingInterval: when nothing was received for this long, the client sends {"type":"ping"}.
	// Defaults to 15s.
	PingInterval time.Duration
	// PongTimeout: when nothing at all arrives within this after our ping, the connection is
	// considered dead, closed and re-established. Defaults to 10s.
	PongTimeout time.Duration
	// ReadLimit is the largest frame accepted, in bytes. Larger frames are skipped and
	// reported as EventError; the connection stays up. Defaults to 32 MiB.
	ReadLimit int64
	// Reconnect configures reconnection.
	Reconnect ReconnectOptions
	// RetryOnFailedConnect makes Connect hand a failed first dial to the reconnect loop
	// instead of returning its error: Connect returns nil, the failure arrives as an
	// EventError, and the client keeps trying with Reconnect's backoff. Defaults to false.
	RetryOnFailedConnect bool
	// Gate, when set, is called before each dial (login, upgrade, auth) and the release it
	// returns after it. A caller that runs many clients against one server uses it to bound
	// how many log in at once, so a restart does not become a thundering herd. An error
	// fails the dial. Optional.
	Gate func(ctx context.Context) (release func(), err error)
	// SubscribeGate, when set, holds back subscribe frames: each one is sent once it holds
	// what SubscribeGate returns, and gives it back when its init (or refusal) arrives or the
	// connection ends. Directus reads a subscription's init, and checks its permissions, when
	// the subscribe arrives; a caller that runs many subscriptions against one server uses
	// it to bound that work, so that a reconnect does not queue every subscribe ahead of
	// everything else the server is asked. Subscribe then blocks until the frame may go.
	// Optional.
	SubscribeGate func(ctx context.Context) (release func(), err error)
	// SubscriptionBuffer bounds each subscription's queue of undelivered messages. On
	// overflow the queue is cleared and a single KindGap message is queued. Defaults to 4096.
	SubscriptionBuffer int
	// SubscriptionBufferBytes bounds the bytes (items and keys as received) in each
	// subscription's queue, since one frame may be as large as ReadLimit. On overflow the queue
	// is cleared and a single KindGap message is queued. Defaults to ReadLimit.
	SubscriptionBufferBytes int64
	// OnEvent observes lifecycle events. It is called outside locks, in order, from a single
	// goroutine, so it may block briefly but must not call Close. Optional.
	OnEvent func(Event)

	// rand returns a number in [0,1) for backoff jitter; tests replace it.
	rand func() float64
}

const (
	defaultPath               = "/websocket"
	defaultTimeout            = 10 * time.Second
	defaultPingInterval       = 15 * time.Second
	defaultPongTimeout        = 10 * time.Second
	defaultReadLimit          = 32 << 20
	defaultSubscriptionBuffer = 4096
)

func (o *Options) setDefaults() error {
	if o.URL == "" {
		return errors.New("directus: Options.URL is required")
	}
	if o.Path == "" {
		o.Path = defaultPath
	}
	if o.AuthMode == "" {
		o.AuthMode = AuthHandshake
	}
	switch o.AuthMode {
	case AuthHandshake, AuthStrict, AuthPublic:
	default:
		return fmt.Errorf("directus: unknown AuthMode %q", o.AuthMode)
	}
	if o.AuthMode == AuthStrict {
		o.TokenInURL = true
	}
	if o.AuthMode != AuthPublic && o.Auth.empty() {
		return fmt.Errorf("directus: AuthMode %q needs credentials in Options.Auth", o.AuthMode)
	}
	if (o.Auth.Email == "") != (o.Auth.Password == "") {
		return errors.New("directus: Auth.Email and Auth.Password must be set together")
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultTimeout
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = defaultTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = defaultTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = defaultPingInterval
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = defaultPongTimeout
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = defaultReadLimit
	}
	if o.SubscriptionBuffer <= 0 {
		o.SubscriptionBuffer = defaultSubscriptionBuffer
	}
	if o.SubscriptionBufferBytes <= 0 {
		o.SubscriptionBufferBytes = o.ReadLimit
	}
	o.Reconnect = o.Reconnect.withDefaults()
	o.setServerDefaults()
	return nil
}

func (r ReconnectOptions) withDefaults() ReconnectOptions {
	if r.InitialDelay <= 0 {
		r.InitialDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.MaxDelay < r.InitialDelay {
		r.MaxDelay = r.InitialDelay
	}
	if r.Multiplier < 1 {
		r.Multiplier = 2
	}
	if r.Jitter == 0 {
		r.Jitter = 0.2
	}
	if r.Jitter < 0 {
		r.Jitter = 0
	}
	if r.Jitter > 1 {
		r.Jitter = 1
	}
	return r
}

// Backoff returns the delay before reconnect attempt number attempt (1 for the first retry):
// InitialDelay*Multiplier^(attempt-1), capped at MaxDelay, then spread by ±Jitter using rnd
// (a source of numbers in [0,1); nil means no spread) and capped at MaxDelay again. Zero
// fields of o take their documented defaults. It is a pure function.
func Backoff(o ReconnectOptions, attempt int, rnd func() float64) time.Duration {
	o = o.withDefaults()
	if attempt < 1 {
		attempt = 1
	}
	d := float64(o.InitialDelay) * math.Pow(o.Multiplier, float64(attempt-1))
	if d > float64(o.MaxDelay) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(o.MaxDelay)
	}
	if rnd != nil && o.Jitter > 0 {
		d *= 1 + o.Jitter*(2*rnd()-1)
	}
	if d > float64(o.MaxDelay) {
		d = float64(o.MaxDelay)
	}
	if d < 0 {
		d = 0
	}
	return time.Duration(d)
}

// endpoints derives the WebSocket URL (without token) and the REST base URL from Options.
func endpoints(base, path string) (ws *url.URL, rest *url.URL, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, fmt.Errorf("directus: parse URL: %w", err)
	}
	if u.Host == "" {
		return nil, nil, fmt.Errorf("directus: URL %q has no host", base)
	}
	restU := *u
	wsU := *u
	isWS := false
	switch u.Scheme {
	case "http":
		wsU.Scheme = "ws"
	case schemeHTTPS:
		wsU.Scheme = schemeWSS
	case "ws":
		restU.Scheme, isWS = "http", true
	case schemeWSS:
		restU.Scheme, isWS = schemeHTTPS, true
	default:
		return nil, nil, fmt.Errorf("directus: URL scheme %q is not http, https, ws or wss", u.Scheme)
	}
	prefix := strings.TrimSuffix(u.Path, "/")
	// A ws(s) URL that already names the endpoint is used as it is.
	if isWS && strings.HasSuffix(prefix, path) {
		prefix = strings.TrimSuffix(prefix, path)
	}
	restU.Path, restU.RawPath = prefix, ""
	restU.RawQuery, restU.Fragment = "", ""
	wsU.Path, wsU.RawPath = prefix+"/"+strings.TrimPrefix(path, "/"), ""
	wsU.Fragment = ""
	return &wsU, &restU, nil
}

// defaultHTTPClient is the client used when the caller gives none: the
// default transport's settings with tlsConfig, and no overall timeout
// (deadlines come from contexts).
func defaultHTTPClient(tlsConfig *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
	}
	return &http.Client{Transport: tr}
}

// maxRedirects is how many redirects within one host a request follows, as net/http's own
// default.
const maxRedirects = 10

// withRedirectPolicy returns hc, or a copy of it that follows redirects with
// sameHostRedirects when hc has no CheckRedirect of its own. hc itself is not changed.
func withRedirectPolicy(hc *http.Client) *http.Client {
	if hc.CheckRedirect != nil {
		return hc
	}
	c := *hc
	c.CheckRedirect = sameHostRedirects
	return &c
}

// sameHostRedirects follows a redirect only to the host of the original request and never
// from https to http. net/http drops the Authorization header on a redirect to another
// domain, but it re-sends a POST body on 307 and 308 (a login's password), and a server can
// point the upgrade anywhere; refusing is the only way the credentials surely stay put.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("directus: stopped after %d redirects", maxRedirects)
	}
	from, to := via[0].URL, req.URL
	if !sameServer(from, to) || (secureScheme(from.Scheme) && !secureScheme(to.Scheme)) {
		return &RedirectError{From: withoutQuery(from), To: withoutQuery(to)}
	}
	return nil
}

// sameServer reports whether to is the host and port of from; the one change allowed is
// http on the default port to https on the default port (a site that sends http to https).
func sameServer(from, to *url.URL) bool {
	if !strings.EqualFold(from.Hostname(), to.Hostname()) {
		return false
	}
	if from.Port() == "" && to.Port() == "" {
		return true
	}
	return effectivePort(from) == effectivePort(to)
}

func effectivePort(u *url.URL) string {
	switch {
	case u.Port() != "":
		return u.Port()
	case secureScheme(u.Scheme):
		return "443"
	default:
		return "80"
	}
}

// The URL schemes of TLS connections.
const (
	schemeHTTPS = "https"
	schemeWSS   = "wss"
)

func secureScheme(s string) bool { return s == schemeHTTPS || s == schemeWSS }

// withoutQuery is u for an error message: no user info, query or fragment, which may hold
// a token.
func withoutQuery(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment, c.RawFragment = nil, "", "", ""
	return c.String()
}
