// A FIX 4.4 initiator built on QuickFIX (C++), the independent engine Rotor's FIX gateway is checked against.
//
// It logs on (Username 553 / Password 554 in the Logon), sends one typed AllocationInstruction (35=J) per leg of a
// legs file, prints every message it receives as one line, waits for a number of application answers, logs out
// and exits. QuickFIX validates everything it receives against the FIX 4.4 data dictionary it is given, so a
// malformed ack from the gateway shows up as a Reject the initiator sends (printed as an OUT 35=3 line) instead of
// an APP line.
//
// Output, one line each (raw FIX with '|' for SOH):
//   LOGON | LOGOUT                 session events
//   APP <fix> | ADMIN <fix>        messages received (application / session level)
//   OUT <fix>                      messages sent
//   DONE | TIMEOUT <text> | REFUSED <text> | ERROR <text>
// Options: --host --port --sender --target --password --legs FILE --expect N --timeout SECONDS --dictionary FIX44.xml,
// and optionally --store DIR (a FileStore kept across runs, as a real client keeps its sequence numbers; default a
// temporary one) and --reset Y|N (ResetSeqNumFlag 141=Y on every Logon; default Y).
// Exit status: 0 done, 2 timeout, 3 logon refused or connection lost before logon, 4 bad arguments or legs file.
#include <quickfix/Application.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/fix44/AllocationInstruction.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ftw.h>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::mutex outputMutex;

void printLine(const std::string& kind, const std::string& text = "") {
  std::lock_guard<std::mutex> lock(outputMutex);
  std::cout << kind;
  if (!text.empty()) std::cout << ' ' << text;
  std::cout << std::endl;
}

std::string readable(const FIX::Message& message) {
  std::string raw = message.toString();
  for (char& c : raw)
    if (c == '\x01') c = '|';
  return raw;
}

struct Allocation {
  std::string account, quantity, allocationId;
};

// One leg: `key=value` fields separated by '|'; `alloc=<account>,<quantity>,<allocationID>` repeats. Keys: allocId,
// side, symbol, quantity, price, tradeDate, settlDate (YYYYMMDD), execId, im, broker, and optionally text, lastQty,
// transType (default 0), allocType (default 1), noOrdersType (default 0).
struct Leg {
  std::map<std::string, std::string> fields;
  std::vector<Allocation> allocations;
  std::string get(const std::string& key, const std::string& fallback = "") const {
    auto found = fields.find(key);
    return found == fields.end() ? fallback : found->second;
  }
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

std::vector<Leg> readLegs(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read legs file " + path);
  std::vector<Leg> legs;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    Leg leg;
    for (const std::string& field : split(line, '|')) {
      auto equals = field.find('=');
      if (equals == std::string::npos) throw std::runtime_error("field without '=': " + field);
      std::string key = field.substr(0, equals), value = field.substr(equals + 1);
      if (key == "alloc") {
        auto parts = split(value, ',');
        if (parts.size() != 3) throw std::runtime_error("alloc needs account,quantity,allocationID: " + value);
        leg.allocations.push_back({parts[0], parts[1], parts[2]});
      } else {
        leg.fields[key] = value;
      }
    }
    legs.push_back(leg);
  }
  return legs;
}

// Fields take the text exactly as written in the legs file: prices and quantities never pass through a double.
template <class FieldType>
FieldType fieldOf(const std::string& text) {
  FieldType field;
  field.setString(text);
  return field;
}

FIX44::AllocationInstruction allocationInstruction(const Leg& leg) {
  FIX44::AllocationInstruction message(
      fieldOf<FIX::AllocID>(leg.get("allocId")), fieldOf<FIX::AllocTransType>(leg.get("transType", "0")),
      fieldOf<FIX::AllocType>(leg.get("allocType", "1")), fieldOf<FIX::AllocNoOrdersType>(leg.get("noOrdersType", "0")),
      fieldOf<FIX::Side>(leg.get("side")), fieldOf<FIX::Quantity>(leg.get("quantity")),
      fieldOf<FIX::AvgPx>(leg.get("price")), fieldOf<FIX::TradeDate>(leg.get("tradeDate")));
  message.set(fieldOf<FIX::Symbol>(leg.get("symbol")));
  message.set(fieldOf<FIX::SettlDate>(leg.get("settlDate")));
  if (!leg.get("text").empty()) message.set(fieldOf<FIX::Text>(leg.get("text")));

  // FIX 4.4's NoExecs entry opens with LastQty (32), which Rotor's contract leaves out (124=1 then 17=ExecID);
  // `lastQty=` in the legs file sends it, to check the gateway takes the entry in its standard form too.
  FIX44::AllocationInstruction::NoExecs execution;
  if (!leg.get("lastQty").empty()) execution.set(fieldOf<FIX::LastQty>(leg.get("lastQty")));
  execution.set(fieldOf<FIX::ExecID>(leg.get("execId")));
  message.addGroup(execution);

  const std::pair<const char*, const char*> parties[] = {{"im", "13"}, {"broker", "1"}};
  for (const auto& keyAndRole : parties) {
    FIX44::AllocationInstruction::NoPartyIDs party;
    party.set(fieldOf<FIX::PartyID>(leg.get(keyAndRole.first)));
    party.set(FIX::PartyIDSource('D'));
    party.set(fieldOf<FIX::PartyRole>(keyAndRole.second));
    message.addGroup(party);
  }

  for (const Allocation& allocation : leg.allocations) {
    FIX44::AllocationInstruction::NoAllocs group;
    group.set(fieldOf<FIX::AllocAccount>(allocation.account));
    group.set(fieldOf<FIX::AllocQty>(allocation.quantity));
    group.set(fieldOf<FIX::IndividualAllocID>(allocation.allocationId));
    message.addGroup(group);
  }
  return message;
}

class Initiator : public FIX::Application {
 public:
  Initiator(std::string password, int expected) : password_(std::move(password)), expected_(expected) {}

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {
    printLine("LOGON");
    update([this] { loggedOn_ = true; });
  }
  void onLogout(const FIX::SessionID&) override {
    printLine("LOGOUT");
    update([this] { loggedOut_ = true; });
  }
  void toAdmin(FIX::Message& message, const FIX::SessionID&) override {
    if (message.getHeader().getField(FIX::FIELD::MsgType) == FIX::MsgType_Logon) {
      message.setField(FIX::Username(message.getHeader().getField(FIX::FIELD::SenderCompID)));
      message.setField(FIX::Password(password_));
    }
    printLine("OUT", readable(message));
  }
  void toApp(FIX::Message& message, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    printLine("OUT", readable(message));
  }
  void fromAdmin(const FIX::Message& message, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    printLine("ADMIN", readable(message));
    const std::string type = message.getHeader().getField(FIX::FIELD::MsgType);
    if (type == FIX::MsgType_Reject) update([this] { received_ += 1; });
    if (type == FIX::MsgType_Logout) update([this] { logoutReceived_ = true; });
  }
  void fromApp(const FIX::Message& message, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    printLine("APP", readable(message));
    update([this] { received_ += 1; });
  }

  // Waits until `done` holds or the deadline passes; returns whether it held.
  template <class Predicate>
  bool waitUntil(std::chrono::steady_clock::time_point deadline, Predicate done) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return done(*this); });
  }

  bool loggedOn_ = false, loggedOut_ = false, logoutReceived_ = false;
  int received_ = 0;
  const std::string password_;
  const int expected_;

 private:
  template <class Change>
  void update(Change change) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      change();
    }
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
};

// The FileStore's directory goes once the initiator is done (the headers need C++14, without std::filesystem).
void removeTree(const std::string& path) {
  nftw(path.c_str(), [](const char* file, const struct stat*, int, struct FTW*) { return remove(file); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

std::map<std::string, std::string> parseArguments(int argc, char** argv) {
  std::map<std::string, std::string> options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) throw std::runtime_error("expected --option value, got " + key);
    options[key.substr(2)] = argv[i + 1];
  }
  for (const char* required : {"host", "port", "sender", "target", "password", "legs", "expect", "timeout", "dictionary"})
    if (!options.count(required)) throw std::runtime_error(std::string("missing --") + required);
  if (!options.count("reset")) options["reset"] = "Y";
  if (options.at("reset") != "Y" && options.at("reset") != "N") throw std::runtime_error("--reset must be Y or N");
  return options;
}

std::string sessionSettings(const std::map<std::string, std::string>& options, const std::string& storeDir) {
  std::ostringstream settings;
  settings << "[DEFAULT]\nConnectionType=initiator\nReconnectInterval=3600\nFileStorePath=" << storeDir
           << "\nStartTime=00:00:00\nEndTime=00:00:00\nHeartBtInt=5\nLogonTimeout=10\nLogoutTimeout=5\n"
           << "ResetOnLogon=" << options.at("reset") << "\nCheckLatency=N\nUseDataDictionary=Y\nValidateFieldsOutOfOrder=Y\n"
           << "ValidateFieldsHaveValues=Y\nValidateUserDefinedFields=Y\nDataDictionary=" << options.at("dictionary")
           << "\n\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=" << options.at("sender")
           << "\nTargetCompID=" << options.at("target") << "\nSocketConnectHost=" << options.at("host")
           << "\nSocketConnectPort=" << options.at("port") << "\n";
  return settings.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> options;
  std::vector<Leg> legs;
  try {
    options = parseArguments(argc, argv);
    legs = readLegs(options.at("legs"));
  } catch (const std::exception& error) {
    printLine("ERROR", error.what());
    return 4;
  }
  const int expected = std::stoi(options.at("expect"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(
      static_cast<long>(std::stod(options.at("timeout")) * 1000));

  // A client that keeps its sequence numbers across connections passes --store; otherwise a temporary store.
  char storeTemplate[] = "/tmp/rotor-quickfix-store-XXXXXX";
  const bool temporaryStore = !options.count("store");
  const std::string storeDir = temporaryStore ? std::string(mkdtemp(storeTemplate)) : options.at("store");
  int status = 0;
  try {
    std::istringstream text(sessionSettings(options, storeDir));
    FIX::SessionSettings settings(text);
    Initiator application(options.at("password"), expected);
    FIX::FileStoreFactory storeFactory(settings);
    FIX::SocketInitiator initiator(application, storeFactory, settings);
    const FIX::SessionID sessionId("FIX.4.4", options.at("sender"), options.at("target"));
    initiator.start();

    const bool loggedOn = application.waitUntil(deadline, [](const Initiator& a) { return a.loggedOn_ || a.loggedOut_; });
    if (!loggedOn || !application.loggedOn_) {
      printLine(loggedOn ? "REFUSED" : "TIMEOUT", "logon not accepted");
      status = loggedOn ? 3 : 2;
    } else {
      for (const Leg& leg : legs) {
        FIX44::AllocationInstruction message = allocationInstruction(leg);
        FIX::Session::sendToTarget(message, sessionId);
      }
      const bool answered = application.waitUntil(
          deadline, [](const Initiator& a) { return a.received_ >= a.expected_ || a.loggedOut_; });
      if (!answered || application.received_ < expected) {
        printLine("TIMEOUT", "received " + std::to_string(application.received_) + " of " + std::to_string(expected));
        status = 2;
      }
      if (FIX::Session* session = FIX::Session::lookupSession(sessionId)) session->logout();
      application.waitUntil(std::chrono::steady_clock::now() + std::chrono::seconds(6),
                            [](const Initiator& a) { return a.loggedOut_; });
    }
    initiator.stop(true);
    if (status == 0) printLine("DONE");
  } catch (const std::exception& error) {
    printLine("ERROR", error.what());
    status = 4;
  }
  if (temporaryStore) removeTree(storeDir);
  return status;
}
