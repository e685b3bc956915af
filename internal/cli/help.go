package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	suggestpkg "github.com/agentvault/agentvault/internal/suggest"
)

// intro opens `agentvault help`.
const intro = `AgentVault gives every AI agent its own vault: a local MCP URL and token with
exactly the tools you allow.

Usage:
`

// outro closes `agentvault help`.
const outro = `
Every command takes --data DIR (default $AGENTVAULT_DATA, else the user config
folder's agentvault/). VAULT is a vault id or name. While AgentVault runs, the
CLI talks to it over DATA/agentvault.sock and changes reach agents at once.
agentvault help COMMAND (or COMMAND --help) says more about one command.
`

// help answers `agentvault help [WORDS…]`: every command, one command, or
// the commands of a group.
func help(out io.Writer, words []string) error {
	if len(words) == 0 {
		fmt.Fprint(out, intro)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, c := range table() {
			usage := strings.TrimSpace(c.Name + " " + c.Args)
			if c.Name == "start" {
				usage = c.Args
			}
			fmt.Fprintf(tw, "  agentvault %s\t%s\n", usage, c.Summary)
		}
		tw.Flush()
		fmt.Fprint(out, outro)
		return nil
	}
	name := strings.Join(words, " ")
	for _, c := range table() {
		if c.Name == name {
			writeCommandHelp(out, c)
			return nil
		}
	}
	if subs := group(words[0]); len(words) == 1 && len(subs) > 0 {
		fmt.Fprintf(out, "agentvault %s: one of\n\n", words[0])
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, c := range subs {
			fmt.Fprintf(tw, "  agentvault %s %s %s\t%s\n", words[0], c.Name, c.Args, c.Summary)
		}
		tw.Flush()
		return nil
	}
	return usagef("no command %q%s", name, suggest(name, names()))
}

// writeCommandHelp says what one command does and takes.
func writeCommandHelp(out io.Writer, c Command) {
	usage := "agentvault " + strings.TrimSpace(c.Name+" "+c.Args)
	if c.Name == "start" {
		usage = "agentvault " + c.Args
	}
	fmt.Fprintf(out, "Usage: %s\n\n%s\n", usage, c.Summary)
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	c.Run(fs)
	fs.String("data", "", "the data folder (default $AGENTVAULT_DATA, else the user config folder's agentvault/)")
	if c.JSON {
		fs.Bool("json", false, "print JSON")
	}
	fmt.Fprintln(out, "\nFlags:")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + strings.ToUpper(arg)
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, arg, text)
	})
	tw.Flush()
}

// group lists the commands whose first word is word and that have more.
func group(word string) []Command {
	var out []Command
	for _, c := range table() {
		if first, rest, ok := strings.Cut(c.Name, " "); ok && first == word && rest != "" {
			c.Name = rest
			out = append(out, c)
		}
	}
	return out
}

// subcommands are the second words of a group's commands.
func subcommands(word string) []string {
	var out []string
	for _, c := range group(word) {
		out = append(out, strings.Fields(c.Name)[0])
	}
	return slices.Compact(out)
}

// topLevel are the first words of every command.
func topLevel() []string {
	var out []string
	for _, c := range table() {
		if w := strings.Fields(c.Name)[0]; w != "start" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// names are every command's full name.
func names() []string {
	var out []string
	for _, c := range table() {
		out = append(out, c.Name)
	}
	return out
}

// flagsOf lists the flags a command takes, for completion.
func flagsOf(c Command) []string {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	c.Run(fs)
	out := []string{"--data", "--help"}
	if c.JSON {
		out = append(out, "--json")
	}
	fs.VisitAll(func(f *flag.Flag) { out = append(out, "--"+f.Name) })
	return out
}

// suggest names the candidate closest to typed, if one is close enough to
// be a typo: ` (did you mean "x"?)`.
func suggest(typed string, candidates []string) string {
	if best := suggestpkg.Closest(typed, candidates, 1); len(best) > 0 {
		return fmt.Sprintf(" (did you mean %q?)", best[0])
	}
	return ""
}

// suggestFlag is suggest for a flag name, written as one.
func suggestFlag(typed string, names []string) string {
	if s := suggest(typed, names); s != "" {
		return strings.Replace(s, `"`, `"--`, 1)
	}
	return ""
}
