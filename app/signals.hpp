#pragma once

namespace fitreel::app {

/// Installs SIGINT and SIGTERM handlers: the first signal asks training to stop after the
/// current epoch (results are still written); a second one exits at once, writing nothing
/// more (the staging folder is left for the next run to remove).
void install_stop_handlers();
/// The signal that asked to stop, or 0.
int stop_signal();

}  // namespace fitreel::app
