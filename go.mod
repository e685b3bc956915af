module github.com/agentvault/agentvault

go 1.26.8

require (
	github.com/mark3labs/mcp-go v1.2.1 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
