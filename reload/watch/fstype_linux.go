package watch

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// vboxsfMagic is VirtualBox's shared folders', which the kernel's magic.h
// does not list (fs/vboxsf).
const vboxsfMagic = 0x786f4256

// eventless names the file systems whose changes made elsewhere (on the
// server, the host, the other side of the mount) raise no inotify event
// here, by statfs's f_type. FUSE covers sshfs, Docker Desktop's bind mounts
// (gRPC FUSE, virtiofs) and every other user-space file system; 9p is what
// WSL2 mounts Windows' drives with, and some virtual machines their shares.
var eventless = map[int64]string{
	unix.NFS_SUPER_MAGIC:  "NFS",
	unix.SMB_SUPER_MAGIC:  "SMB",
	unix.SMB2_SUPER_MAGIC: "SMB",
	unix.CIFS_SUPER_MAGIC: "CIFS",
	unix.FUSE_SUPER_MAGIC: "FUSE",
	unix.V9FS_MAGIC:       "9p",
	unix.CEPH_SUPER_MAGIC: "Ceph",
	unix.AFS_SUPER_MAGIC:  "AFS",
	unix.AFS_FS_MAGIC:     "AFS",
	unix.CODA_SUPER_MAGIC: "Coda",
	unix.NCP_SUPER_MAGIC:  "NetWare",
	vboxsfMagic:           "VirtualBox shared folder",
}

func statfsType(path string) (int64, error) {
	var s unix.Statfs_t
	if err := unix.Statfs(path, &s); err != nil {
		return 0, err
	}
	return int64(s.Type), nil
}

// untrusted says why the kernel's events cannot be trusted for one of
// paths, or "" when they can. fsType is statfs's f_type, or a test's.
func untrusted(paths []string, fsType func(string) (int64, error)) string {
	if fsType == nil {
		fsType = statfsType
	}
	for _, p := range paths {
		t, err := fsType(p)
		if err != nil {
			continue // a --watch path yet to be made; the root's own error comes later
		}
		if name, ok := eventless[t]; ok {
			return fmt.Sprintf("%s is on a %s file system, which does not report changes made elsewhere", p, name)
		}
	}
	return ""
}
