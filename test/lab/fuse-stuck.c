/* Ported from the project reference lab (../shared/lab/fuse-stuck.c) for the test lab: see test/lab/fuse.ts. */
/* fuse-stuck: tiny libfuse3 low-level FS whose lock/read/write handlers never answer until released.
 * Files: /lockme (flock/fcntl locks hang)  /hangread (read hangs)  /hangwrite (write hangs)  /ok (normal)
 * Release all pending requests: kill -USR1 <daemon pid>   (or create file given as RELEASE_FILE env)
 * Build: gcc -O2 -Wall -o fuse-stuck fuse-stuck.c $(pkg-config --cflags --libs fuse3)
 * Run:   ./fuse-stuck MOUNTPOINT -f        (unmount: fusermount3 -u MOUNTPOINT or kill the daemon)   */
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <signal.h>
#include <pthread.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/file.h>

static const char *names[] = { NULL, NULL, "lockme", "hangread", "hangwrite", "ok" };
#define NFILES 6
static const char okdata[] = "hello from fuse-stuck\n";

enum kind { K_LOCK, K_READ, K_WRITE };
struct pend { fuse_req_t req; enum kind k; size_t size; };
static struct pend pend[256]; static int npend;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t release_flag;

static void logev(const char *fmt, ...) {
  struct timespec t; clock_gettime(CLOCK_REALTIME, &t); struct tm tm; gmtime_r(&t.tv_sec, &tm);
  char b[32]; strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(stderr, "%s.%06ldZ fuse-stuck: ", b, t.tv_nsec / 1000);
  va_list ap; va_start(ap, fmt); vfprintf(stderr, fmt, ap); va_end(ap); fputc('\n', stderr);
}
static void park(fuse_req_t req, enum kind k, size_t size, const char *what) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  pthread_mutex_lock(&mu);
  if (npend < 256) { pend[npend].req = req; pend[npend].k = k; pend[npend].size = size; npend++; }
  pthread_mutex_unlock(&mu);
  logev("parked %s from pid %d (never answering until SIGUSR1)", what, c->pid);
}
static void stat_of(fuse_ino_t ino, struct stat *st) {
  memset(st, 0, sizeof *st); st->st_ino = ino; st->st_uid = 0; st->st_gid = 0;
  if (ino == 1) { st->st_mode = S_IFDIR | 0755; st->st_nlink = 2; }
  else { st->st_mode = S_IFREG | 0666; st->st_nlink = 1; st->st_size = ino == 5 ? sizeof okdata - 1 : 4096; }
}
static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  for (int i = 2; i < NFILES; i++) if (parent == 1 && !strcmp(name, names[i])) {
    struct fuse_entry_param e = {0}; e.ino = i; e.attr_timeout = 1; e.entry_timeout = 1; stat_of(i, &e.attr);
    fuse_reply_entry(req, &e); return; }
  fuse_reply_err(req, ENOENT);
}
static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct stat st; if (ino >= NFILES) { fuse_reply_err(req, ENOENT); return; }
  stat_of(ino, &st); fuse_reply_attr(req, &st, 1);
}
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *a, int to_set, struct fuse_file_info *fi) {
  op_getattr(req, ino, fi);
}
static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  char buf[1024]; size_t n = 0; struct stat st;
  for (int i = off + 2; i < NFILES; i++) {
    stat_of(i, &st); size_t l = fuse_add_direntry(req, buf + n, sizeof buf - n, names[i], &st, i - 1);
    if (l > sizeof buf - n) break; n += l; }
  fuse_reply_buf(req, buf, n);
}
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (ino == 4) fi->direct_io = 1;       /* writes go straight to the daemon */
  fuse_reply_open(req, fi);
}
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  if (ino == 3) { park(req, K_READ, size, "READ /hangread"); return; }
  if (ino == 5) { size_t len = sizeof okdata - 1; if ((size_t)off >= len) fuse_reply_buf(req, NULL, 0);
    else fuse_reply_buf(req, okdata + off, (off + size > len) ? len - off : size); return; }
  fuse_reply_buf(req, NULL, 0);
}
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  if (ino == 4) { park(req, K_WRITE, size, "WRITE /hangwrite"); return; }
  fuse_reply_write(req, size);
}
static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op) {
  if (ino == 2 && (op & (LOCK_EX | LOCK_SH))) { park(req, K_LOCK, 0, "FLOCK /lockme"); return; }
  fuse_reply_err(req, 0);
}
static void op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock, int sleep) {
  if (ino == 2 && lock->l_type != F_UNLCK) { park(req, K_LOCK, 0, sleep ? "SETLKW /lockme" : "SETLK /lockme"); return; }
  fuse_reply_err(req, 0);
}
static void op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock) {
  lock->l_type = F_UNLCK; fuse_reply_lock(req, lock);
}
static const struct fuse_lowlevel_ops ops = {
  .lookup = op_lookup, .getattr = op_getattr, .setattr = op_setattr, .readdir = op_readdir, .open = op_open,
  .read = op_read, .write = op_write, .flock = op_flock, .setlk = op_setlk, .getlk = op_getlk,
};
static void on_usr1(int s) { (void)s; release_flag = 1; }
static void *releaser(void *arg) {
  const char *rf = getenv("RELEASE_FILE");
  for (;;) {
    usleep(200000);
    if (!release_flag && !(rf && access(rf, F_OK) == 0)) continue;
    release_flag = 0; if (rf) unlink(rf);
    pthread_mutex_lock(&mu);
    for (int i = 0; i < npend; i++) {
      struct pend *p = &pend[i];
      if (p->k == K_LOCK) fuse_reply_err(p->req, 0);
      else if (p->k == K_READ) fuse_reply_buf(p->req, okdata, p->size < sizeof okdata - 1 ? p->size : sizeof okdata - 1);
      else fuse_reply_write(p->req, p->size);
    }
    logev("released %d pending request(s)", npend); npend = 0;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}
int main(int argc, char *argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct fuse_cmdline_opts o;
  if (fuse_parse_cmdline(&args, &o) || !o.mountpoint) { fprintf(stderr, "usage: %s MOUNTPOINT [-f]\n", argv[0]); return 1; }
  signal(SIGUSR1, on_usr1);
  struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
  if (!se || fuse_set_signal_handlers(se) || fuse_session_mount(se, o.mountpoint)) return 1;
  fuse_daemonize(o.foreground);
  pthread_t th; pthread_create(&th, NULL, releaser, NULL);
  logev("mounted on %s, pid %d", o.mountpoint, getpid());
  int r = fuse_session_loop(se);
  fuse_session_unmount(se); fuse_remove_signal_handlers(se); fuse_session_destroy(se);
  return r ? 1 : 0;
}
