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
	"context"
	"testing"

	. "github.com/onsi/gomega"
)

// runCLI runs the command line args as the program name and returns its
// exit code, stdout and stderr.
func runCLI(name string, e env, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), name, args, &cli{getenv: e.get, stdout: &stdout, stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

func TestEveryCommandHasHelpThatExits0(t *testing.T) {
	for _, cmd := range newRootCommand("directus-operator", &cli{}).Commands() {
		t.Run(cmd.Name(), func(t *testing.T) {
			g := NewWithT(t)
			code, stdout, _ := runCLI("directus-operator", env{}, cmd.Name(), "--help")
			g.Expect(code).To(Equal(exitOK))
			g.Expect(stdout).To(ContainSubstring("directus-operator " + cmd.Name()))
			code, helpOut, _ := runCLI("directus-operator", env{}, "help", cmd.Name())
			g.Expect(code).To(Equal(exitOK))
			g.Expect(helpOut).To(Equal(stdout), "help CMD prints what CMD --help does")
		})
	}
}

func TestOperatorHelpListsItsFlagsWithTwoDashes(t *testing.T) {
	g := NewWithT(t)
	code, stdout, _ := runCLI("directus-operator", env{}, "operator", "-h")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(stdout).To(ContainSubstring("--leader-election-namespace"))
	g.Expect(stdout).To(ContainSubstring("--metrics-bind-address"))
}

func TestVersionPrintsTheVersionAndTheCommit(t *testing.T) {
	version, commit = "v1.2.3", "0123abcd"
	t.Cleanup(func() { version, commit = "dev", "none" })
	g := NewWithT(t)
	code, stdout, _ := runCLI("directus-operator", env{}, "version")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(stdout).To(Equal("v1.2.3 (commit 0123abcd)\n"))
	code, stdout, _ = runCLI("directus-operator", env{}, "--version")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(stdout).To(Equal("directus-operator v1.2.3 (commit 0123abcd)\n"))
}

func TestUsageMistakesExit2AndSayWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no command", nil, "a command is required"},
		{"a misspelt command, with a suggestion", []string{"tial"}, `unknown command "tial"; did you mean tail?`},
		{"an unknown flag", []string{"get", "--colour"}, "unknown flag: --colour"},
		{"a single-dash long flag, which pflag reads as shorthands", []string{"operator", "-leader-elect=false"}, "unknown shorthand flag"},
		{"a name missing", []string{"status"}, "want one DirectusSubscription name"},
		{"two names", []string{"resync", "a", "b"}, "want one DirectusSubscription name, got 2"},
		{"a wait for something that is no condition", []string{"wait", "x", "--for", "delete", "--kubeconfig", "/nonexistent"}, `--for "delete"`},
		{"an unknown output format", []string{"get", "-o", "yaml"}, `--output "yaml"`},
		{"an unknown completion shell", []string{"completion", "tcsh"}, "tcsh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			code, _, stderr := runCLI("directus-operator", env{}, tc.args...)
			g.Expect(code).To(Equal(exitUsage), stderr)
			g.Expect(stderr).To(ContainSubstring(tc.stderr))
		})
	}
}

func TestInstalledAsKubectlDirectusItIsTheKubectlPlugin(t *testing.T) {
	g := NewWithT(t)
	code, stdout, _ := runCLI("kubectl-directus", env{}, "--help")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(stdout).To(ContainSubstring("kubectl directus [command]"))
	code, stdout, _ = runCLI("kubectl-directus", env{}, "get", "--help")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(stdout).To(ContainSubstring("kubectl directus get [NAME...]"))
	g.Expect(stdout).To(ContainSubstring("-n, --namespace"))
}

func TestCompletionScriptsAreGeneratedForBashZshAndFish(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, stdout, stderr := runCLI("directus-operator", env{}, "completion", shell)
		NewWithT(t).Expect(code).To(Equal(exitOK), stderr)
		NewWithT(t).Expect(stdout).To(ContainSubstring("directus-operator"), shell)
	}
}
