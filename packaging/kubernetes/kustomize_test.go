package kubernetes

import (
	"os"
	"path"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizeBuild runs `kustomize build` in memory on an overlay that takes
// the kubeadm DaemonSet as a resource and includes one of our components,
// the way the README tells users to.
func kustomizeBuild(t *testing.T, component string) appsv1.DaemonSet {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	copyDir(t, fs, component, "/components/"+component)
	write(t, fs, "/overlay/kube-proxy-daemonset.yaml", readFile(t, "testdata/kube-proxy-daemonset.yaml"))
	write(t, fs, "/overlay/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - kube-proxy-daemonset.yaml
components:
  - ../components/`+component+`
images:
  - name: iptables-shim
    newName: registry.example/iptables-shim
    newTag: v0.1.0
`)
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/overlay")
	if err != nil {
		t.Fatalf("kustomize build with %s: %v", component, err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(out, &ds); err != nil {
		t.Fatalf("kustomize output does not decode: %v\n%s", err, out)
	}
	return ds
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, fs filesys.FileSystem, p string, data any) {
	t.Helper()
	var b []byte
	switch d := data.(type) {
	case string:
		b = []byte(d)
	case []byte:
		b = d
	}
	if err := fs.MkdirAll(path.Dir(p)); err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile(p, b); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, fs filesys.FileSystem, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		write(t, fs, path.Join(to, e.Name()), readFile(t, path.Join(from, e.Name())))
	}
}

func TestKustomizeInitContainerComponent(t *testing.T) {
	ds := kustomizeBuild(t, "initcontainer")
	assertKubeProxyUsesShim(t, ds)
	ic := container(t, ds.Spec.Template.Spec.InitContainers, "install-iptables-shim")
	if ic.Image != "registry.example/iptables-shim:v0.1.0" {
		t.Errorf("images: transformer did not reach the initContainer: %s", ic.Image)
	}
}

func TestKustomizeHostPathComponent(t *testing.T) {
	assertKubeProxyUsesShim(t, kustomizeBuild(t, "hostpath"))
}

func TestKustomizeDoctor(t *testing.T) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "doctor")
	if err != nil {
		t.Fatal(err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "image: registry.k8s.io/kube-proxy:v1.30.0") {
		t.Errorf("doctor kustomization did not pin kube-proxy:\n%s", out)
	}
}
