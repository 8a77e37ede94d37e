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

package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/directus-operator/directus-operator/realtime"
)

// Environment variables that hold credentials. Credentials have no flags:
// a command line shows in ps and in the pod spec.
const (
	envToken    = "DIRECTUS_TOKEN"
	envEmail    = "DIRECTUS_EMAIL"
	envPassword = "DIRECTUS_PASSWORD"
)

// envPrefix turns a flag name into its environment variable:
// --tls-ca-file is DIRECTUS_TLS_CA_FILE.
const envPrefix = "DIRECTUS_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// connFlags are the connection flags shared by sidecar, tail and send. Their
// names mirror the DirectusSubscription spec (url, websocketPath, auth.mode,
// tls, heartbeat, reconnect, collection, event, query).
type connFlags struct {
	URL                   string
	WebSocketPath         string
	AuthMode              string
	Collection            string
	Event                 string
	Query                 string
	TLSCAFile             string
	TLSServerName         string
	InsecureSkipTLSVerify bool
	HeartbeatInterval     time.Duration
	HeartbeatTimeout      time.Duration
	ReconnectInitialDelay time.Duration
	ReconnectMaxDelay     time.Duration
	TokenFile             string
	EmailFile             string
	PasswordFile          string

	// longLived is set by bindLongLived: the heartbeat and reconnect flags
	// exist (tail, sidecar), not on send's one request.
	longLived bool
}

// bind registers the flags every connection command has; withEvent adds
// --event (send has none).
func (f *connFlags) bind(fs *pflag.FlagSet, withEvent bool) {
	fs.StringVar(&f.URL, "url", "", "base URL of Directus, e.g. https://directus.example.com (required)")
	fs.StringVar(&f.WebSocketPath, "websocket-path", "/websocket", "realtime endpoint below the URL (WEBSOCKETS_REST_PATH)")
	fs.StringVar(&f.AuthMode, "auth-mode", "handshake", "the server's WEBSOCKETS_REST_AUTH: handshake, strict, or public (no credentials)")
	fs.StringVar(&f.Collection, "collection", "", "collection (required)")
	if withEvent {
		fs.StringVar(&f.Event, "event", "", "only this event: create, update or delete; empty for all")
	}
	fs.StringVar(&f.Query, "query", "", `query as a JSON object, e.g. '{"fields":["id","text"],"filter":{"user":{"_eq":"Ben"}}}'`)
	fs.StringVar(&f.TLSCAFile, "tls-ca-file", "", "PEM file of the CAs that sign the server's certificate")
	fs.StringVar(&f.TLSServerName, "tls-server-name", "", "name to verify the server's certificate against")
	fs.BoolVar(&f.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "do not verify the server's certificate (DANGEROUS: credentials can be intercepted)")
	fs.StringVar(&f.TokenFile, "token-file", "", "file holding the access token (instead of "+envToken+"), e.g. a mounted Secret")
	fs.StringVar(&f.EmailFile, "email-file", "", "file holding the email (instead of "+envEmail+")")
	fs.StringVar(&f.PasswordFile, "password-file", "", "file holding the password (instead of "+envPassword+")")
}

// bindLongLived registers the heartbeat and reconnect flags of the
// commands that hold a connection open.
func (f *connFlags) bindLongLived(fs *pflag.FlagSet) {
	f.longLived = true
	fs.DurationVar(&f.HeartbeatInterval, "heartbeat-interval", 15*time.Second, "send a ping after this long without a message")
	fs.DurationVar(&f.HeartbeatTimeout, "heartbeat-timeout", 10*time.Second, "drop the connection when nothing arrives this long after a ping")
	fs.DurationVar(&f.ReconnectInitialDelay, "reconnect-initial-delay", 500*time.Millisecond, "first reconnect delay; doubles up to --reconnect-max-delay")
	fs.DurationVar(&f.ReconnectMaxDelay, "reconnect-max-delay", time.Minute, "longest reconnect delay")
}

// withEnvNames appends each flag's environment variable to its help.
func withEnvNames(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) { f.Usage += " [$" + envName(f.Name) + "]" })
}

// fromEnvironment fills every flag not given on the command line from its
// DIRECTUS_<NAME> environment variable: flags win over the environment.
func fromEnvironment(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil || f.Name == "help" {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("%s: %v", envName(f.Name), e)
			}
		}
	})
	return err
}

// options builds the realtime client options. Credentials come from the
// environment or from files, never from flags; errors name the variables
// and files, never the values. A warning for --insecure-skip-tls-verify
// goes to stderr.
func (f *connFlags) options(getenv func(string) string, stderr io.Writer) (realtime.Options, error) {
	if f.URL == "" {
		return realtime.Options{}, usagef("--url (or DIRECTUS_URL) is required")
	}
	if f.Collection == "" {
		return realtime.Options{}, usagef("--collection (or DIRECTUS_COLLECTION) is required")
	}
	mode := realtime.AuthMode(f.AuthMode)
	switch mode {
	case realtime.AuthHandshake, realtime.AuthStrict, realtime.AuthPublic:
	default:
		return realtime.Options{}, usagef("--auth-mode %q: want handshake, strict or public", f.AuthMode)
	}
	switch f.Event {
	case "", string(realtime.KindCreate), string(realtime.KindUpdate), string(realtime.KindDelete):
	default:
		return realtime.Options{}, usagef("--event %q: want create, update, delete or nothing", f.Event)
	}
	if _, err := f.query(); err != nil {
		return realtime.Options{}, err
	}
	for name, d := range map[string]time.Duration{
		"heartbeat-interval": f.HeartbeatInterval, "heartbeat-timeout": f.HeartbeatTimeout,
		"reconnect-initial-delay": f.ReconnectInitialDelay, "reconnect-max-delay": f.ReconnectMaxDelay,
	} {
		if f.longLived && d <= 0 {
			return realtime.Options{}, usagef("--%s must be positive, got %s", name, d)
		}
	}
	auth, err := f.credentials(getenv, mode)
	if err != nil {
		return realtime.Options{}, err
	}
	opts := realtime.Options{
		Server: realtime.Server{URL: f.URL, Auth: auth}, Path: f.WebSocketPath, AuthMode: mode,
		PingInterval: f.HeartbeatInterval, PongTimeout: f.HeartbeatTimeout,
		Reconnect: realtime.ReconnectOptions{InitialDelay: f.ReconnectInitialDelay, MaxDelay: f.ReconnectMaxDelay},
	}
	if opts.TLSConfig, err = f.tlsConfig(stderr); err != nil {
		return realtime.Options{}, err
	}
	return opts, nil
}

// query returns --query as a JSON object, or nil.
func (f *connFlags) query() (json.RawMessage, error) {
	q := bytes.TrimSpace([]byte(f.Query))
	if len(q) == 0 {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if q[0] != '{' || json.Unmarshal(q, &obj) != nil {
		return nil, usagef(`--query must be a JSON object, e.g. '{"filter":{"user":{"_eq":"Ben"}}}'`)
	}
	return json.RawMessage(q), nil
}

// credentials reads DIRECTUS_TOKEN, or DIRECTUS_EMAIL and DIRECTUS_PASSWORD,
// or the --*-file flags. Exactly one way must be used, and none in public
// mode.
func (f *connFlags) credentials(getenv func(string) string, mode realtime.AuthMode) (realtime.Auth, error) {
	token, err := secret(getenv, envToken, "--token-file", f.TokenFile)
	if err != nil {
		return realtime.Auth{}, err
	}
	email, err := secret(getenv, envEmail, "--email-file", f.EmailFile)
	if err != nil {
		return realtime.Auth{}, err
	}
	password, err := secret(getenv, envPassword, "--password-file", f.PasswordFile)
	if err != nil {
		return realtime.Auth{}, err
	}
	const how = "set " + envToken + " (or --token-file), or " + envEmail + " and " + envPassword + " (or --email-file and --password-file)"
	switch {
	case mode == realtime.AuthPublic && (token != "" || email != "" || password != ""):
		return realtime.Auth{}, usagef("--auth-mode public connects without credentials, but %s is set; unset it or choose another --auth-mode", setNames(getenv, f))
	case mode == realtime.AuthPublic:
		return realtime.Auth{}, nil
	case token != "" && (email != "" || password != ""):
		return realtime.Auth{}, usagef("conflicting credentials: %s are set; %s, not both", setNames(getenv, f), how)
	case token != "":
		return realtime.Auth{AccessToken: token}, nil
	case email != "" && password != "":
		return realtime.Auth{Email: email, Password: password}, nil
	case email != "":
		return realtime.Auth{}, usagef("%s (or --email-file) is set but %s (or --password-file) is not", envEmail, envPassword)
	case password != "":
		return realtime.Auth{}, usagef("%s (or --password-file) is set but %s (or --email-file) is not", envPassword, envEmail)
	}
	return realtime.Auth{}, usagef("no credentials: %s, or use --auth-mode public", how)
}

// secret reads one credential from its environment variable or its file;
// both at once is an error. A file's trailing newline is trimmed.
func secret(getenv func(string) string, env, flagName, file string) (string, error) {
	v := getenv(env)
	if file == "" {
		return v, nil
	}
	if v != "" {
		return "", usagef("%s and %s are both set; use one", env, flagName)
	}
	s, err := readSecretFile(file)
	if err != nil {
		return "", usagef("%s: %v", flagName, err)
	}
	if s == "" {
		return "", usagef("%s: %s is empty", flagName, file)
	}
	return s, nil
}

// setNames lists the credential sources that are set, for error messages.
func setNames(getenv func(string) string, f *connFlags) string {
	var names []string
	for _, s := range []struct{ env, flag, file string }{
		{envToken, "--token-file", f.TokenFile}, {envEmail, "--email-file", f.EmailFile}, {envPassword, "--password-file", f.PasswordFile},
	} {
		if getenv(s.env) != "" {
			names = append(names, s.env)
		}
		if s.file != "" {
			names = append(names, s.flag)
		}
	}
	return strings.Join(names, " and ")
}

func (f *connFlags) tlsConfig(stderr io.Writer) (*tls.Config, error) {
	if f.TLSCAFile == "" && f.TLSServerName == "" && !f.InsecureSkipTLSVerify {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.TLSServerName}
	if f.TLSCAFile != "" {
		pem, err := os.ReadFile(f.TLSCAFile)
		if err != nil {
			return nil, usagef("--tls-ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--tls-ca-file: %s holds no PEM certificate", f.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	if f.InsecureSkipTLSVerify {
		tc.InsecureSkipVerify = true //nolint:gosec // explicit, loudly reported opt-in
		_, _ = fmt.Fprintln(stderr, "WARNING: --insecure-skip-tls-verify is set: the server's certificate is NOT verified "+
			"and credentials can be intercepted. Use --tls-ca-file instead.")
	}
	return tc, nil
}

// subscribeOptions is the subscription the flags describe.
func (f *connFlags) subscribeOptions() realtime.SubscribeOptions {
	q, _ := f.query() // checked by options
	return realtime.SubscribeOptions{Collection: f.Collection, Event: f.Event, Query: q}
}
