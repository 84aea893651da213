#pragma once
inline int adaptation_probe_tmp() { return 1; }
