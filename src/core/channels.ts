/**
 * diagnostics_channel channels, so APM tools can observe asyncdoctor without wrapping it.
 * Publishing is skipped when nobody subscribes (`hasSubscribers` is a field read).
 */
import diagnosticsChannel from "node:diagnostics_channel";

/** The channel names, stable across versions. */
export const channelNames = {
  taskSpawn: "asyncdoctor:task:spawn",
  taskSettle: "asyncdoctor:task:settle",
  lockWait: "asyncdoctor:lock:wait",
  lockAcquire: "asyncdoctor:lock:acquire",
  lockRelease: "asyncdoctor:lock:release",
  diagnosis: "asyncdoctor:diagnosis",
} as const;

/** The channel objects, one per name. */
export const channels = {
  taskSpawn: diagnosticsChannel.channel(channelNames.taskSpawn),
  taskSettle: diagnosticsChannel.channel(channelNames.taskSettle),
  lockWait: diagnosticsChannel.channel(channelNames.lockWait),
  lockAcquire: diagnosticsChannel.channel(channelNames.lockAcquire),
  lockRelease: diagnosticsChannel.channel(channelNames.lockRelease),
  diagnosis: diagnosticsChannel.channel(channelNames.diagnosis),
};
