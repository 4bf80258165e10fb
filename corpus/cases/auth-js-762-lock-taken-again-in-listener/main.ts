// supabase auth-js#762 "getSession() hangs indefinitely every hour or so": token refresh runs
// under the client's lock and notifies the onAuthStateChange subscribers while holding it. A
// subscriber that calls another client method (which takes the same lock) waits for the lock
// its own notification holds, and every later call queues behind it.
class AuthClient {
  private lockTail: Promise<unknown> = Promise.resolve();
  private subscribers: Array<(event: string) => Promise<void> | void> = [];
  private session = { accessToken: "t0", expiresAt: 0 };

  // serialises every session operation, as _acquireLock does
  private acquireLock<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.lockTail.then(fn, fn);
    this.lockTail = run.catch(() => undefined);
    return run;
  }

  onAuthStateChange(cb: (event: string) => Promise<void> | void) {
    this.subscribers.push(cb);
  }

  getSession() {
    return this.acquireLock(async () => this.session);
  }

  refreshSession() {
    return this.acquireLock(async () => {
      this.session = { accessToken: "t1", expiresAt: Date.now() + 3600_000 };
      await Promise.all(this.subscribers.map((cb) => cb("TOKEN_REFRESHED")));
    });
  }
}

const auth = new AuthClient();
auth.onAuthStateChange(async (event) => {
  if (event === "TOKEN_REFRESHED") {
    const session = await auth.getSession();
    console.log("todos for", session.accessToken);
  }
});

auth.refreshSession().then(() => console.log("refreshed"));
