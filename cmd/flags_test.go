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
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"

	"github.com/directus-operator/directus-operator/realtime"
)

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func writeFile(t *testing.T, content string) string {
	t.Helper()
	return writeNamedFile(t, "secret", content)
}

// writeNamedFile writes content into a new file name in a temporary
// directory and returns its path.
func writeNamedFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// parseFlags parses args as a command does: flags, no positional
// arguments, then the environment for the flags not given.
func parseFlags(fs *pflag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return &usageError{err.Error()}
	}
	if err := noArgs(nil, fs.Args()); err != nil {
		return err
	}
	return fromEnvironment(fs, getenv)
}

// parseConn parses args and env the way every command does and returns the
// realtime options, or the error.
func parseConn(args []string, e env) (connFlags, realtime.Options, string, error) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cf connFlags
	cf.bind(fs, true)
	cf.bindLongLived(fs)
	if err := parseFlags(fs, args, e.get); err != nil {
		return cf, realtime.Options{}, "", err
	}
	var stderr bytes.Buffer
	opts, err := cf.options(e.get, &stderr)
	return cf, opts, stderr.String(), err
}

func TestFlagsWinOverTheEnvironment(t *testing.T) {
	base := env{"DIRECTUS_TOKEN": "tok"}
	with := func(kv ...string) env {
		e := env{}
		maps.Copy(e, base)
		for i := 0; i < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	for _, tc := range []struct {
		name  string
		args  []string
		env   env
		check func(g Gomega, cf connFlags, o realtime.Options)
	}{
		{"environment only", nil,
			with("DIRECTUS_URL", "http://env", "DIRECTUS_COLLECTION", "messages", "DIRECTUS_EVENT", "create", "DIRECTUS_QUERY", `{"limit":5}`,
				"DIRECTUS_HEARTBEAT_INTERVAL", "3s", "DIRECTUS_RECONNECT_MAX_DELAY", "2m", "DIRECTUS_WEBSOCKET_PATH", "/ws", "DIRECTUS_AUTH_MODE", "strict"),
			func(g Gomega, cf connFlags, o realtime.Options) {
				g.Expect(o.URL).To(Equal("http://env"))
				g.Expect(o.Path).To(Equal("/ws"))
				g.Expect(o.AuthMode).To(Equal(realtime.AuthStrict))
				g.Expect(o.PingInterval).To(Equal(3 * time.Second))
				g.Expect(o.Reconnect.MaxDelay).To(Equal(2 * time.Minute))
				g.Expect(cf.subscribeOptions()).To(Equal(realtime.SubscribeOptions{Collection: "messages", Event: "create", Query: []byte(`{"limit":5}`)}))
			}},
		{"flags over environment", []string{"--url", "http://flag", "--collection", "posts", "--event", "delete", "--heartbeat-interval", "7s"},
			with("DIRECTUS_URL", "http://env", "DIRECTUS_COLLECTION", "messages", "DIRECTUS_EVENT", "create", "DIRECTUS_HEARTBEAT_INTERVAL", "3s"),
			func(g Gomega, cf connFlags, o realtime.Options) {
				g.Expect(o.URL).To(Equal("http://flag"))
				g.Expect(o.PingInterval).To(Equal(7 * time.Second))
				g.Expect(cf.subscribeOptions().Collection).To(Equal("posts"))
				g.Expect(cf.subscribeOptions().Event).To(Equal("delete"))
			}},
		{"an explicitly empty flag still wins", []string{"--url", "http://flag", "--collection", "m", "--event", ""},
			with("DIRECTUS_EVENT", "create"),
			func(g Gomega, cf connFlags, _ realtime.Options) {
				g.Expect(cf.Event).To(BeEmpty())
			}},
		{"defaults", []string{"--url", "http://x", "--collection", "m"}, base,
			func(g Gomega, _ connFlags, o realtime.Options) {
				g.Expect(o.Path).To(Equal("/websocket"))
				g.Expect(o.AuthMode).To(Equal(realtime.AuthHandshake))
				g.Expect(o.Reconnect.InitialDelay).To(Equal(500 * time.Millisecond))
				g.Expect(o.TLSConfig).To(BeNil())
			}},
		{"TLS", []string{"--url", "https://x", "--collection", "m", "--tls-server-name", "directus.internal"},
			with("DIRECTUS_INSECURE_SKIP_TLS_VERIFY", "true"),
			func(g Gomega, _ connFlags, o realtime.Options) {
				g.Expect(o.TLSConfig).NotTo(BeNil())
				g.Expect(o.TLSConfig.ServerName).To(Equal("directus.internal"))
				g.Expect(o.TLSConfig.InsecureSkipVerify).To(BeTrue())
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cf, o, _, err := parseConn(tc.args, tc.env)
			g.Expect(err).NotTo(HaveOccurred())
			tc.check(g, cf, o)
		})
	}
}

func TestInsecureSkipTLSVerifyWarnsLoudly(t *testing.T) {
	g := NewWithT(t)
	_, _, stderr, err := parseConn([]string{"--url", "https://x", "--collection", "m", "--insecure-skip-tls-verify"}, env{"DIRECTUS_TOKEN": "t"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stderr).To(HavePrefix("WARNING: --insecure-skip-tls-verify"))
}

func TestCredentialsComeFromTheEnvironmentOrFiles(t *testing.T) {
	const secretValue = "s3cr3t-value"
	args := func(extra ...string) []string {
		return append([]string{"--url", "http://x", "--collection", "m"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  env
		want realtime.Auth
		// errs are substrings of the error; empty means success.
		errs []string
	}{
		{name: "token from the environment", args: args(), env: env{"DIRECTUS_TOKEN": secretValue}, want: realtime.Auth{AccessToken: secretValue}},
		{name: "email and password from the environment", args: args(), env: env{"DIRECTUS_EMAIL": "bot@example.com", "DIRECTUS_PASSWORD": secretValue},
			want: realtime.Auth{Email: "bot@example.com", Password: secretValue}},
		{name: "token file, trailing newline trimmed", args: args("--token-file", writeFile(t, secretValue+"\n")), want: realtime.Auth{AccessToken: secretValue}},
		{name: "token file named in the environment", env: env{"DIRECTUS_TOKEN_FILE": writeFile(t, secretValue+"\r\n")}, args: args(), want: realtime.Auth{AccessToken: secretValue}},
		{name: "email and password files", args: args("--email-file", writeFile(t, "bot@example.com\n"), "--password-file", writeFile(t, secretValue)),
			want: realtime.Auth{Email: "bot@example.com", Password: secretValue}},
		{name: "email from env, password from file", args: args("--password-file", writeFile(t, secretValue)), env: env{"DIRECTUS_EMAIL": "bot@example.com"},
			want: realtime.Auth{Email: "bot@example.com", Password: secretValue}},
		{name: "public mode needs none", args: args("--auth-mode", "public"), want: realtime.Auth{}},

		{name: "nothing", args: args(), errs: []string{"no credentials", "DIRECTUS_TOKEN", "DIRECTUS_EMAIL", "DIRECTUS_PASSWORD", "--token-file", "--auth-mode public"}},
		{name: "token and email", args: args(), env: env{"DIRECTUS_TOKEN": secretValue, "DIRECTUS_EMAIL": "e", "DIRECTUS_PASSWORD": secretValue},
			errs: []string{"conflicting credentials", "DIRECTUS_TOKEN and DIRECTUS_EMAIL and DIRECTUS_PASSWORD are set"}},
		{name: "token in env and in a file", args: args("--token-file", writeFile(t, secretValue)), env: env{"DIRECTUS_TOKEN": secretValue},
			errs: []string{"DIRECTUS_TOKEN and --token-file are both set"}},
		{name: "email without password", args: args(), env: env{"DIRECTUS_EMAIL": "bot@example.com"}, errs: []string{"DIRECTUS_EMAIL (or --email-file) is set but DIRECTUS_PASSWORD"}},
		{name: "password without email", args: args(), env: env{"DIRECTUS_PASSWORD": secretValue}, errs: []string{"DIRECTUS_PASSWORD (or --password-file) is set but DIRECTUS_EMAIL"}},
		{name: "credentials in public mode", args: args("--auth-mode", "public"), env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{"public", "DIRECTUS_TOKEN is set"}},
		{name: "missing token file", args: args("--token-file", "/nonexistent/token"), errs: []string{"--token-file", "/nonexistent/token"}},
		{name: "empty token file", args: args("--token-file", writeFile(t, "\n")), errs: []string{"--token-file", "is empty"}},

		{name: "no URL", args: []string{"--collection", "m"}, env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{"--url (or DIRECTUS_URL) is required"}},
		{name: "no collection", args: []string{"--url", "http://x"}, env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{"--collection (or DIRECTUS_COLLECTION) is required"}},
		{name: "bad auth mode", args: args("--auth-mode", "oauth"), env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{`--auth-mode "oauth"`}},
		{name: "bad event", args: args("--event", "upsert"), env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{`--event "upsert"`}},
		{name: "query not an object", args: args("--query", `[1]`), env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{"--query must be a JSON object"}},
		{name: "bad duration in the environment", args: args(), env: env{"DIRECTUS_TOKEN": secretValue, "DIRECTUS_HEARTBEAT_TIMEOUT": "soon"}, errs: []string{"DIRECTUS_HEARTBEAT_TIMEOUT"}},
		{name: "CA file without PEM", args: args("--tls-ca-file", writeFile(t, "not a certificate")), env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{"--tls-ca-file", "no PEM certificate"}},
		{name: "unexpected argument", args: args("extra"), env: env{"DIRECTUS_TOKEN": secretValue}, errs: []string{"unexpected arguments: extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, o, _, err := parseConn(tc.args, tc.env)
			if len(tc.errs) == 0 {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(o.Auth).To(Equal(tc.want))
				return
			}
			g.Expect(err).To(HaveOccurred())
			var ue *usageError
			g.Expect(errors.As(err, &ue)).To(BeTrue(), "a configuration error exits 2")
			for _, s := range tc.errs {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
			g.Expect(err.Error()).NotTo(ContainSubstring(secretValue), "credentials never appear in errors")
		})
	}
}
