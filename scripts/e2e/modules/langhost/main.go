// pulumi-language-nodejs stand-in for the e2e chain.
//
// The upstream Node.js language host is its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which is not tagged and not
// served by the Go module proxy, and the published sdk/v3 module leaves it out (nested module).
// This is a small host written for this project against the published language-runtime protocol
// (github.com/pulumi/pulumi/sdk/v3/proto/go). It does what `pulumi preview/up/destroy` and a
// TypeScript policy pack need and nothing more:
//
//   - Run: `node <@pulumi/pulumi>/cmd/run --monitor=… --engine=… … <program>` with the stack config
//     in PULUMI_CONFIG, TypeScript per the `typescript` runtime option (default true);
//   - RunPlugin: policy packs (kind "analyzer") through `@pulumi/pulumi/cmd/run-policy-pack`, other
//     plugins through `cmd/run-plugin`, streaming stdout/stderr and the exit code back;
//   - GetRequiredPackages/GetRequiredPlugins: the resource packages found in node_modules
//     (package.json `pulumi.resource`), so the engine knows which provider plugins to load;
//   - GetPluginInfo, About, GetProgramDependencies, InstallDependencies (a no-op: dependencies
//     are installed with npm before the CLI runs).
//
// Everything else answers Unimplemented.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is reported by GetPluginInfo; the toolchain sets it to the CLI's version.
var version = "3.248.0"

// nodeExitAfterLoggedError is the exit code the Node.js runtime uses after it has already
// reported a user-actionable error to the engine (the engine should not add another one).
const nodeExitAfterLoggedError = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func main() {
	engine := ""
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-") {
			engine = a // the engine address is the last positional argument
		}
	}
	h := &host{engine: engine}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// sdkScript finds node_modules/@pulumi/pulumi/cmd/<name> from dir upwards, as Node would.
func sdkScript(dir, name string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(d, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if _, err := os.Stat(filepath.Join(p, "index.js")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("cannot find @pulumi/pulumi/cmd/%s above %s: run npm ci first", name, dir)
		}
		d = parent
	}
}

func programDir(info *pulumirpc.ProgramInfo, pwd string) string {
	if info != nil && info.ProgramDirectory != "" {
		return info.ProgramDirectory
	}
	return pwd
}

func entryPoint(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.EntryPoint != "" {
		return info.EntryPoint
	}
	if fallback != "" {
		return fallback
	}
	return "."
}

func option(info *pulumirpc.ProgramInfo, key string) (*structpb.Value, bool) {
	if info == nil || info.Options == nil {
		return nil, false
	}
	v, ok := info.Options.Fields[key]
	return v, ok
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDir(req.Info, req.Pwd)
	run, err := sdkScript(dir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	engine := h.engine
	args := []string{run,
		"--monitor=" + req.MonitorAddress,
		"--engine=" + engine,
		"--project=" + req.Project,
		"--stack=" + req.Stack,
		"--pwd=" + req.Pwd,
	}
	if req.Organization != "" {
		args = append(args, "--organization="+req.Organization)
	}
	if req.Info != nil && req.Info.RootDirectory != "" {
		args = append(args, "--root-directory="+req.Info.RootDirectory)
	}
	if req.DryRun {
		args = append(args, "--dry-run")
	}
	if req.Parallel > 0 {
		args = append(args, "--parallel="+strconv.Itoa(int(req.Parallel)))
	}
	args = append(args, entryPoint(req.Info, req.Program))
	args = append(args, req.Args...)

	config, err := json.Marshal(req.Config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.ConfigSecretKeys
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
	)
	typescript := true
	if v, ok := option(req.Info, "typescript"); ok {
		typescript = v.GetBoolValue()
	}
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	if v, ok := option(req.Info, "tsconfig"); ok && v.GetStringValue() != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v.GetStringValue())
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.Pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if exit.ExitCode() == nodeExitAfterLoggedError {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// streamWriter forwards a child's output to the RunPlugin stream.
type streamWriter struct {
	mu     *sync.Mutex
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := bytes.Clone(p)
	msg := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: data}}
	if w.stderr {
		msg = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: data}}
	}
	if err := w.server.Send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	dir := programDir(req.Info, req.Pwd)
	script := "run-plugin"
	if req.Kind == "analyzer" {
		script = "run-policy-pack"
	}
	path, err := sdkScript(dir, script)
	if err != nil {
		return err
	}
	var args []string
	if script == "run-policy-pack" {
		// usage: run-policy-pack <engine-address> <program>
		args = append([]string{path}, req.Args...)
		args = append(args, dir)
	} else {
		args = append([]string{path, dir}, req.Args...)
	}
	cmd := exec.CommandContext(server.Context(), "node", args...)
	cmd.Dir = req.Pwd
	if cmd.Dir == "" {
		cmd.Dir = dir
	}
	cmd.Env = append(os.Environ(), req.Env...)
	mu := &sync.Mutex{}
	cmd.Stdout = streamWriter{mu: mu, server: server}
	cmd.Stderr = streamWriter{mu: mu, server: server, stderr: true}
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = exit.ExitCode()
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

type pulumiPackage struct {
	name, version, server string
}

// resourcePackages lists the packages in node_modules whose package.json declares
// `"pulumi": {"resource": true, ...}`.
func resourcePackages(dir string) []pulumiPackage {
	var found []pulumiPackage
	seen := map[string]bool{}
	read := func(pkgJSON string) {
		raw, err := os.ReadFile(pkgJSON)
		if err != nil {
			return
		}
		var pkg struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Pulumi  *struct {
				Resource bool   `json:"resource"`
				Name     string `json:"name"`
				Version  string `json:"version"`
				Server   string `json:"server"`
			} `json:"pulumi"`
		}
		if json.Unmarshal(raw, &pkg) != nil || pkg.Pulumi == nil || !pkg.Pulumi.Resource {
			return
		}
		name := pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(pkg.Name, "@pulumi/")
		}
		v := pkg.Pulumi.Version
		if v == "" {
			v = pkg.Version
		}
		if seen[name+"@"+v] {
			return
		}
		seen[name+"@"+v] = true
		found = append(found, pulumiPackage{name: name, version: v, server: pkg.Pulumi.Server})
	}
	modules := filepath.Join(dir, "node_modules")
	entries, _ := os.ReadDir(modules)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "@") {
			scoped, _ := os.ReadDir(filepath.Join(modules, e.Name()))
			for _, s := range scoped {
				read(filepath.Join(modules, e.Name(), s.Name(), "package.json"))
			}
			continue
		}
		read(filepath.Join(modules, e.Name(), "package.json"))
	}
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	return found
}

func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range resourcePackages(programDir(req.Info, "")) {
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name: p.name, Kind: "resource", Version: p.version, Server: p.server,
		})
	}
	return resp, nil
}

func (h *host) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range resourcePackages(programDir(req.Info, req.Program)) {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: p.name, Kind: "resource", Version: p.version, Server: p.server,
		})
	}
	return resp, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, "node is not on PATH")
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.Info, req.Program)
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return &pulumirpc.GetProgramDependenciesResponse{}, nil
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	_ = json.Unmarshal(raw, &pkg)
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	names := make([]string, 0, len(pkg.Dependencies))
	for n := range pkg.Dependencies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := pkg.Dependencies[n]
		if raw, err := os.ReadFile(filepath.Join(dir, "node_modules", n, "package.json")); err == nil {
			var installed struct {
				Version string `json:"version"`
			}
			if json.Unmarshal(raw, &installed) == nil && installed.Version != "" {
				v = installed.Version
			}
		}
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: n, Version: v})
	}
	return resp, nil
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	msg := "pulumi-language-nodejs (e2e stand-in): dependencies are installed with npm ci beforehand\n"
	return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: []byte(msg)})
}

var _ io.Writer = streamWriter{}
