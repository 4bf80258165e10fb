// supabase-js#2344 "auth-js: _initialize deadlocks when onAuthStateChange registers during
// init while session is within 90s of expiry": init refreshes the near-expiry session and
// awaits every subscriber; a subscriber registered during init calls getUser(), which first
// awaits the initialization, which is waiting for that subscriber. Nothing ever resolves.
class GoTrueClient {
  private subscribers: Array<(event: string) => Promise<void>> = [];
  private readonly initializePromise: Promise<void>;
  private session = { expiresAt: Date.now() + 30_000, user: { id: "u1" } };

  constructor() {
    this.initializePromise = this.initialize();
  }

  private async initialize() {
    await Promise.resolve(); // read the persisted session
    if (this.session.expiresAt - Date.now() < 90_000) {
      this.session = { ...this.session, expiresAt: Date.now() + 3600_000 };
      await Promise.all(this.subscribers.map((cb) => cb("TOKEN_REFRESHED")));
    }
  }

  async getUser() {
    await this.initializePromise;
    return this.session.user;
  }

  onAuthStateChange(cb: (event: string) => Promise<void>) {
    this.subscribers.push(cb);
  }
}

const supabase = new GoTrueClient();
supabase.getUser().then((u) => console.log("user", u.id));
supabase.onAuthStateChange(async (event) => {
  const user = await supabase.getUser();
  console.log(event, user.id);
});
