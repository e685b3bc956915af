package api

import "fmt"

// Plural counts n of noun in words: "1 vault", "2 vaults".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
