package kubernetes

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

// shimBinDir is where both patches make the names appear in the container.
const shimBinDir = "/opt/iptables-shim/bin"

func readJSON(t *testing.T, file string) []byte {
	t.Helper()
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return j
}

// merge applies a patch file to the kubeadm DaemonSet as kubectl patch and
// kustomize's strategic merge do, and decodes the result strictly.
func merge(t *testing.T, patchFile string) appsv1.DaemonSet {
	t.Helper()
	merged, err := strategicpatch.StrategicMergePatch(readJSON(t, "testdata/kube-proxy-daemonset.yaml"), readJSON(t, patchFile), appsv1.DaemonSet{})
	if err != nil {
		t.Fatalf("merging %s: %v", patchFile, err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(merged, &ds); err != nil {
		t.Fatalf("merged %s does not decode: %v", patchFile, err)
	}
	return ds
}

func container(t *testing.T, cs []corev1.Container, name string) corev1.Container {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

func volume(t *testing.T, ds appsv1.DaemonSet, name string) corev1.Volume {
	t.Helper()
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// assertKubeProxyUsesShim checks what both patches promise: kube-proxy
// itself unchanged, the original mounts and env kept, PATH led by the shim
// directory, which is mounted as a directory, read-only.
func assertKubeProxyUsesShim(t *testing.T, ds appsv1.DaemonSet) {
	t.Helper()
	kp := container(t, ds.Spec.Template.Spec.Containers, "kube-proxy")
	if kp.Image != "registry.k8s.io/kube-proxy:v1.30.0" || kp.Command[0] != "/usr/local/bin/kube-proxy" || len(kp.Command) != 3 {
		t.Errorf("kube-proxy's image or command changed: %s %v", kp.Image, kp.Command)
	}
	if _, ok := envValue(kp, "NODE_NAME"); !ok {
		t.Error("NODE_NAME env lost")
	}
	path, ok := envValue(kp, "PATH")
	if !ok {
		t.Fatal("no PATH env")
	}
	dirs := strings.Split(path, ":")
	if dirs[0] != shimBinDir {
		t.Errorf("PATH %s does not start with %s", path, shimBinDir)
	}
	for _, d := range []string{"/usr/local/bin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if !slices.Contains(dirs, d) {
			t.Errorf("PATH %s lost %s", path, d)
		}
	}
	var mounts []string
	for _, m := range kp.VolumeMounts {
		mounts = append(mounts, m.MountPath)
		if strings.Contains(m.MountPath, "/sbin/ip") || strings.HasPrefix(filepath.Base(m.MountPath), "ip6tables") {
			t.Errorf("single-file mount over an iptables name: %s", m.MountPath)
		}
		if m.MountPath == shimBinDir && !m.ReadOnly {
			t.Error("shim directory is writable in kube-proxy")
		}
	}
	for _, want := range []string{"/var/lib/kube-proxy", "/run/xtables.lock", "/lib/modules", shimBinDir} {
		if !slices.Contains(mounts, want) {
			t.Errorf("mount %s missing; have %v", want, mounts)
		}
	}
	assertHostRoot(t, ds, kp, "iptables-shim-host-root")
	if n := len(ds.Spec.Template.Spec.Volumes); n != 5 {
		t.Errorf("%d volumes, want the 3 of kubeadm plus the shim's and the host root", n)
	}
}

// hostRootDir is where the manifests mount the host's /.
const hostRootDir = "/host"

// assertHostRoot checks that container c sees the host's / read-only at
// /host and that the shim is told so (host-root): without it, host hints
// would come from the image's own /etc, or not at all.
func assertHostRoot(t *testing.T, ds appsv1.DaemonSet, c corev1.Container, volumeName string) {
	t.Helper()
	if v, ok := envValue(c, "IPTABLES_SHIM_HOST_ROOT"); !ok || v != hostRootDir {
		t.Errorf("%s: IPTABLES_SHIM_HOST_ROOT = %q, want %s", c.Name, v, hostRootDir)
	}
	found := false
	for _, m := range c.VolumeMounts {
		if m.MountPath != hostRootDir {
			continue
		}
		found = true
		if m.Name != volumeName || !m.ReadOnly {
			t.Errorf("%s: host root mount %+v, want volume %s read-only", c.Name, m, volumeName)
		}
		if m.MountPropagation != nil && *m.MountPropagation == corev1.MountPropagationBidirectional {
			t.Errorf("%s: host root mounted bidirectionally", c.Name)
		}
	}
	if !found {
		t.Errorf("%s: no mount at %s", c.Name, hostRootDir)
	}
	v := volume(t, ds, volumeName)
	if v.HostPath == nil || v.HostPath.Path != "/" {
		t.Errorf("volume %s %+v, want hostPath /", volumeName, v.VolumeSource)
	}
}

func TestInitContainerPatch(t *testing.T) {
	ds := merge(t, "initcontainer/patch.yaml")
	assertKubeProxyUsesShim(t, ds)
	if v := volume(t, ds, "iptables-shim-bin"); v.EmptyDir == nil {
		t.Errorf("shim volume is not an emptyDir: %+v", v.VolumeSource)
	}
	ic := container(t, ds.Spec.Template.Spec.InitContainers, "install-iptables-shim")
	want := []string{"/usr/sbin/iptables-shim", "install", "--copy", "--dest", shimBinDir}
	if !slices.Equal(ic.Command, want) {
		t.Errorf("init command %v, want %v (exec form: the shim image has no shell)", ic.Command, want)
	}
	if len(ic.VolumeMounts) != 1 || ic.VolumeMounts[0].MountPath != shimBinDir || ic.VolumeMounts[0].ReadOnly {
		t.Errorf("init mounts %+v", ic.VolumeMounts)
	}
}

func TestHostPathPatch(t *testing.T) {
	ds := merge(t, "hostpath/patch.yaml")
	assertKubeProxyUsesShim(t, ds)
	v := volume(t, ds, "iptables-shim-bin")
	if v.HostPath == nil || v.HostPath.Path != "/usr/libexec/iptables-shim/bin" || v.HostPath.Type == nil || *v.HostPath.Type != corev1.HostPathDirectory {
		t.Errorf("shim volume %+v, want hostPath Directory /usr/libexec/iptables-shim/bin", v.VolumeSource)
	}
	if len(ds.Spec.Template.Spec.InitContainers) != 0 {
		t.Error("hostPath patch adds an initContainer")
	}
}

func TestPatchesComposeAndAreIdempotent(t *testing.T) {
	// Applying a patch twice (a re-run of kubectl patch) changes nothing.
	for _, p := range []string{"initcontainer/patch.yaml", "hostpath/patch.yaml"} {
		once, err := strategicpatch.StrategicMergePatch(readJSON(t, "testdata/kube-proxy-daemonset.yaml"), readJSON(t, p), appsv1.DaemonSet{})
		if err != nil {
			t.Fatal(err)
		}
		twice, err := strategicpatch.StrategicMergePatch(once, readJSON(t, p), appsv1.DaemonSet{})
		if err != nil {
			t.Fatal(err)
		}
		if string(once) != string(twice) {
			t.Errorf("%s is not idempotent", p)
		}
	}
}

func TestDoctorDaemonSet(t *testing.T) {
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(readJSON(t, "doctor/daemonset.yaml"), &ds); err != nil {
		t.Fatal(err)
	}
	spec := ds.Spec.Template.Spec
	if !spec.HostNetwork {
		t.Error("doctor must see the host's network namespace")
	}
	if ds.Spec.Selector.MatchLabels["app"] != ds.Spec.Template.Labels["app"] {
		t.Error("selector does not match the template")
	}
	doc := container(t, spec.InitContainers, "doctor")
	if !slices.Equal(doc.Command, []string{shimBinDir + "/iptables-shim", "doctor", "--json"}) {
		t.Errorf("doctor command %v", doc.Command)
	}
	if doc.SecurityContext == nil || doc.SecurityContext.Privileged == nil || !*doc.SecurityContext.Privileged {
		t.Error("doctor must run privileged like kube-proxy")
	}
	assertHostRoot(t, ds, doc, "host-root")
	if spec.InitContainers[0].Name != "install-iptables-shim" {
		t.Error("the shim must be copied before the doctor runs")
	}
}

func TestKustomizationsNameExistingFiles(t *testing.T) {
	for dir, field := range map[string]string{"initcontainer": "patches", "hostpath": "patches", "doctor": "resources"} {
		var k map[string]any
		if err := yaml.Unmarshal(readJSON(t, filepath.Join(dir, "kustomization.yaml")), &k); err != nil {
			t.Fatal(err)
		}
		items, _ := k[field].([]any)
		if len(items) == 0 {
			t.Errorf("%s: no %s", dir, field)
		}
		for _, it := range items {
			p, ok := it.(string)
			if m, isMap := it.(map[string]any); isMap {
				p, ok = m["path"].(string)
			}
			if !ok {
				t.Errorf("%s: odd entry %v", dir, it)
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
				t.Errorf("%s: %v", dir, err)
			}
		}
	}
}
