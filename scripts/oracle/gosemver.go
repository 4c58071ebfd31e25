// Oracle helper for scripts/version-oracle.py (Go): reads "a<TAB>b" lines on stdin and
// prints, per line, golang.org/x/mod/semver.Compare(a, b) (-1, 0 or 1), or "x" when
// semver.IsValid rejects either version. Built offline in GOPATH mode from Debian's
// golang-golang-x-mod-dev (GO111MODULE=off GOPATH=/usr/share/gocode go run gosemver.go).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<16), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		a, b, _ := strings.Cut(in.Text(), "\t")
		if !semver.IsValid(a) || !semver.IsValid(b) {
			fmt.Fprintln(out, "x")
			continue
		}
		fmt.Fprintln(out, semver.Compare(a, b))
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "gosemver:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}
