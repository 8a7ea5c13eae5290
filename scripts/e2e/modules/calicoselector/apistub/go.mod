// Empty stand-in for github.com/projectcalico/api (not served by the Go module proxy; see ../go.mod).
module github.com/projectcalico/api

go 1.22
