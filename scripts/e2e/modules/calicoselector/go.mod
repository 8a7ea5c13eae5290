// Builds calico-selector-oracle (main.go): Calico's own selector parser and evaluator
// (github.com/projectcalico/calico/libcalico-go/lib/selector) behind a JSON-lines interface, for the
// selector differential step of scripts/e2e/run. The proxy serves the calico module only at this
// pseudo-version (a commit of the release-v3.28 branch, 2025-08-13). The module's go.mod requires
// github.com/projectcalico/api, which the proxy does not serve; the selector package does not
// import it, so an empty local module (apistub/) stands in. Dependencies were added with `go get`
// of the selector package, not `go mod tidy` (which would pull the test imports of every package).
module zt-netpol.local/e2e/calicoselector

go 1.26.0

require github.com/projectcalico/calico v1.11.0-cni-plugin.0.20250813170300-a0db560f0520

require (
	github.com/sirupsen/logrus v1.9.3 // indirect
	golang.org/x/sys v0.33.0 // indirect
)

replace github.com/projectcalico/api => ./apistub
