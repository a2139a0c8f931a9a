package cmd

import (
	"cmp"
	"slices"

	"github.com/spf13/cobra"
)

// suggest returns the candidate closest to name, if it is close enough to be
// a likely typo, or "".
func suggest(name string, candidates []string) string {
	best, bestDist := "", len(name)/2+2
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// suggestCommand returns the subcommand of c that name most likely
// misspells or abbreviates, or "". cobra finds the candidates; of several,
// the closest wins rather than the first in alphabetical order.
func suggestCommand(c *cobra.Command, name string) string {
	found := c.SuggestionsFor(name)
	if len(found) == 0 {
		return ""
	}
	return slices.MinFunc(found, func(a, b string) int {
		return cmp.Compare(editDistance(name, a), editDistance(name, b))
	})
}

// editDistance is the Damerau–Levenshtein distance (with adjacent swaps)
// between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
