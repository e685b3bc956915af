package cli

import (
	"fmt"
	"io"
	"strings"
)

// completion writes the completion script of shell for every command and
// flag of the table.
func completion(out io.Writer, shell string) error {
	switch shell {
	case "bash":
		writeCases(out, bashScript)
	case "zsh":
		writeCases(out, zshScript)
	case "fish":
		writeFish(out)
	default:
		return usagef("completion for %q: want bash, zsh or fish", shell)
	}
	return nil
}

// commandWords are the commands as completion sees them: each command's
// words, and its flags.
func commandWords() (names [][]string, flags [][]string) {
	for _, c := range table() {
		if c.Name == "start" {
			continue
		}
		names = append(names, strings.Fields(c.Name))
		flags = append(flags, flagsOf(c))
	}
	return names, flags
}

// caseScript is how a shell with case statements (bash, zsh) completes:
// its script's head (given the top-level words), its line for a group's
// subcommands, the switch on two words with its line for a two-word
// command's flags, the switch on one word with its line for a one-word
// command's flags, and its tail.
type caseScript struct {
	head, group, pairs, pair, singles, single, tail string
}

var (
	bashScript = caseScript{
		head: `# agentvault completion for bash: source this, or save it as
# ~/.local/share/bash-completion/completions/agentvault
_agentvault() {
  local cur="${COMP_WORDS[COMP_CWORD]}" w1="${COMP_WORDS[1]}" w2="${COMP_WORDS[2]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W %q -- "$cur")); return
  fi
  case "$w1" in
`,
		group:   "    %s) if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi ;;\n",
		pairs:   "  esac\n  [[ \"$cur\" == -* ]] || return\n  case \"$w1 $w2\" in\n",
		pair:    "    %q) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n",
		singles: "  esac\n  case \"$w1\" in\n",
		single:  "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n",
		tail:    "  esac\n}\ncomplete -F _agentvault agentvault\n",
	}
	zshScript = caseScript{
		head: `#compdef agentvault
# agentvault completion for zsh: save this as _agentvault in a folder of $fpath
_agentvault() {
  if (( CURRENT == 2 )); then
    compadd -- %s; return
  fi
  case $words[2] in
`,
		group:   "    %s) if (( CURRENT == 3 )); then compadd -- %s; return; fi ;;\n",
		pairs:   "  esac\n  [[ $PREFIX == -* ]] || return\n  case \"$words[2] $words[3]\" in\n",
		pair:    "    %q) compadd -- %s; return ;;\n",
		singles: "  esac\n  case $words[2] in\n",
		single:  "    %s) compadd -- %s ;;\n",
		tail:    "  esac\n}\ncompdef _agentvault agentvault\n",
	}
)

// writeCases writes the completion script of a shell with case statements.
func writeCases(out io.Writer, sh caseScript) {
	names, flags := commandWords()
	fmt.Fprintf(out, sh.head, strings.Join(topLevel(), " "))
	for _, g := range topLevel() {
		if subs := subcommands(g); len(subs) > 0 {
			fmt.Fprintf(out, sh.group, g, strings.Join(subs, " "))
		}
	}
	fmt.Fprint(out, sh.pairs)
	for i, n := range names {
		if len(n) == 2 {
			fmt.Fprintf(out, sh.pair, strings.Join(n, " "), strings.Join(flags[i], " "))
		}
	}
	fmt.Fprint(out, sh.singles)
	for i, n := range names {
		if len(n) == 1 {
			fmt.Fprintf(out, sh.single, n[0], strings.Join(flags[i], " "))
		}
	}
	fmt.Fprint(out, sh.tail)
}

func writeFish(out io.Writer) {
	names, flags := commandWords()
	top := topLevel()
	fmt.Fprintf(out, "# agentvault completion for fish: save this as ~/.config/fish/completions/agentvault.fish\n")
	fmt.Fprintf(out, "complete -c agentvault -f\ncomplete -c agentvault -n '__fish_use_subcommand' -a '%s'\n", strings.Join(top, " "))
	for _, g := range top {
		if subs := subcommands(g); len(subs) > 0 {
			fmt.Fprintf(out, "complete -c agentvault -n '__fish_seen_subcommand_from %s; and not __fish_seen_subcommand_from %s' -a '%s'\n",
				g, strings.Join(subs, " "), strings.Join(subs, " "))
		}
	}
	for i, n := range names {
		cond := "__fish_seen_subcommand_from " + n[0]
		if len(n) == 2 {
			cond += "; and __fish_seen_subcommand_from " + n[1]
		}
		for _, f := range flags[i] {
			fmt.Fprintf(out, "complete -c agentvault -n '%s' -l %s\n", cond, strings.TrimPrefix(f, "--"))
		}
	}
}
