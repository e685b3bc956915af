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
		writeBash(out)
	case "zsh":
		writeZsh(out)
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

func writeBash(out io.Writer) {
	names, flags := commandWords()
	fmt.Fprintf(out, `# agentvault completion for bash: source this, or save it as
# ~/.local/share/bash-completion/completions/agentvault
_agentvault() {
  local cur="${COMP_WORDS[COMP_CWORD]}" w1="${COMP_WORDS[1]}" w2="${COMP_WORDS[2]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W %q -- "$cur")); return
  fi
  case "$w1" in
`, strings.Join(topLevel(), " "))
	for _, g := range topLevel() {
		if subs := subcommands(g); len(subs) > 0 {
			fmt.Fprintf(out, "    %s) if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi ;;\n", g, strings.Join(subs, " "))
		}
	}
	fmt.Fprint(out, "  esac\n  [[ \"$cur\" == -* ]] || return\n  case \"$w1 $w2\" in\n")
	for i, n := range names {
		if len(n) == 2 {
			fmt.Fprintf(out, "    %q) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", strings.Join(n, " "), strings.Join(flags[i], " "))
		}
	}
	fmt.Fprint(out, "  esac\n  case \"$w1\" in\n")
	for i, n := range names {
		if len(n) == 1 {
			fmt.Fprintf(out, "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", n[0], strings.Join(flags[i], " "))
		}
	}
	fmt.Fprint(out, "  esac\n}\ncomplete -F _agentvault agentvault\n")
}

func writeZsh(out io.Writer) {
	names, flags := commandWords()
	fmt.Fprintf(out, `#compdef agentvault
# agentvault completion for zsh: save this as _agentvault in a folder of $fpath
_agentvault() {
  if (( CURRENT == 2 )); then
    compadd -- %s; return
  fi
  case $words[2] in
`, strings.Join(topLevel(), " "))
	for _, g := range topLevel() {
		if subs := subcommands(g); len(subs) > 0 {
			fmt.Fprintf(out, "    %s) if (( CURRENT == 3 )); then compadd -- %s; return; fi ;;\n", g, strings.Join(subs, " "))
		}
	}
	fmt.Fprint(out, "  esac\n  [[ $PREFIX == -* ]] || return\n  case \"$words[2] $words[3]\" in\n")
	for i, n := range names {
		if len(n) == 2 {
			fmt.Fprintf(out, "    %q) compadd -- %s; return ;;\n", strings.Join(n, " "), strings.Join(flags[i], " "))
		}
	}
	fmt.Fprint(out, "  esac\n  case $words[2] in\n")
	for i, n := range names {
		if len(n) == 1 {
			fmt.Fprintf(out, "    %s) compadd -- %s ;;\n", n[0], strings.Join(flags[i], " "))
		}
	}
	fmt.Fprint(out, "  esac\n}\ncompdef _agentvault agentvault\n")
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
