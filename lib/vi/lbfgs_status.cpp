// Names of liblbfgs's return codes, for error messages.
#include <string>

#include "nutshell/vi/lbfgs_path.hpp"

namespace nutshell::vi {

std::string lbfgs_status_name(int code) {
  switch (code) {
    case LBFGS_SUCCESS: return "LBFGS_SUCCESS (converged)";
    case LBFGS_STOP: return "LBFGS_STOP (the density stopped improving)";
    case LBFGS_ALREADY_MINIMIZED: return "LBFGS_ALREADY_MINIMIZED (zero gradient at the start)";
    case LBFGSERR_LOGICERROR: return "LBFGSERR_LOGICERROR";
    case LBFGSERR_OUTOFMEMORY: return "LBFGSERR_OUTOFMEMORY";
    case LBFGSERR_CANCELED: return "LBFGSERR_CANCELED";
    case LBFGSERR_OUTOFINTERVAL: return "LBFGSERR_OUTOFINTERVAL (line search step out of interval)";
    case LBFGSERR_INCORRECT_TMINMAX: return "LBFGSERR_INCORRECT_TMINMAX";
    case LBFGSERR_ROUNDING_ERROR: return "LBFGSERR_ROUNDING_ERROR (no step improves within precision)";
    case LBFGSERR_MINIMUMSTEP: return "LBFGSERR_MINIMUMSTEP (line search step below the minimum)";
    case LBFGSERR_MAXIMUMSTEP: return "LBFGSERR_MAXIMUMSTEP (line search step above the maximum)";
    case LBFGSERR_MAXIMUMLINESEARCH: return "LBFGSERR_MAXIMUMLINESEARCH (line search gave up)";
    case LBFGSERR_MAXIMUMITERATION: return "LBFGSERR_MAXIMUMITERATION (iteration cap reached)";
    case LBFGSERR_WIDTHTOOSMALL: return "LBFGSERR_WIDTHTOOSMALL (uncertainty interval too small)";
    case LBFGSERR_INVALIDPARAMETERS: return "LBFGSERR_INVALIDPARAMETERS (negative line search step)";
    case LBFGSERR_INCREASEGRADIENT: return "LBFGSERR_INCREASEGRADIENT (not a descent direction)";
    default:
      if (code >= LBFGSERR_INVALID_N && code <= LBFGSERR_INVALID_ORTHANTWISE_END)
        return "LBFGSERR_INVALID_* (a parameter out of range): " + std::to_string(code);
      return "liblbfgs code " + std::to_string(code);
  }
}

}  // namespace nutshell::vi
