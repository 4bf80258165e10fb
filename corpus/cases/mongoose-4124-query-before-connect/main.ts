// mongoose#4124 "find hangs without calling callback": the reporter traced the find() into the
// collection's buffer, waiting for a connection; the connection had never been opened.
// Mongoose buffers the query and, today, only gives up after bufferTimeoutMS (10 s).
import mongoose from "mongoose";

const User = mongoose.model("User", new mongoose.Schema({ email: String }));

async function findUser(email: string) {
  const user = await User.findOne({ email }).exec();
  return user;
}

// the test setup that should have called mongoose.connect() did not run
findUser("someone@example.com").then((u) => console.log("user", u));
