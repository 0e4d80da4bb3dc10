// proxy/observe/shared_value.hpp: a record's handshake is shared with the side probe's cache
// entry, and a write to it never reaches the other holders.
#include "proxy/observe/shared_value.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

using tlsprobe::proxy::SharedValue;

TEST_CASE("shared value: reads share, edit copies what others hold", "[shared_value]") {
  struct Big {
    std::string text;
  };
  SharedValue<Big> empty;
  CHECK_FALSE(empty);
  CHECK_FALSE(SharedValue<Big>(std::optional<Big>()).has_value());

  const auto cached = std::make_shared<const Big>(Big{"from the cache"});
  auto record = SharedValue<Big>::shared(cached);
  REQUIRE(record);
  CHECK(&*record == cached.get());  // no copy for reading
  CHECK(record->text == "from the cache");

  record.edit().text = "edited by one record";
  CHECK(cached->text == "from the cache");  // the cache entry is untouched
  CHECK(&*record != cached.get());
  CHECK(record->text == "edited by one record");

  // A value of its own is edited in place, until a copy of the holder shares it.
  SharedValue<Big> own(Big{"own"});
  const Big* before = &*own;
  own.edit().text = "own, edited";
  CHECK(&*own == before);
  const SharedValue<Big> copy = own;
  own.edit().text = "own, edited again";
  CHECK(copy->text == "own, edited");
  CHECK(own->text == "own, edited again");

  own.reset();
  CHECK_FALSE(own);
  own = Big{"assigned"};
  CHECK(own->text == "assigned");
}
