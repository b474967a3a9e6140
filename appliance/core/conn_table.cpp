#include "appliance/core/conn_table.hpp"

namespace vsd {

ConnTable::ConnTable(std::uint32_t capacity)
    : BasicConnTable<KeyedTupleHash>(capacity, KeyedTupleHash{SipKey::random()}) {}

ConnTable::ConnTable(std::uint32_t capacity, const SipKey& key)
    : BasicConnTable<KeyedTupleHash>(capacity, KeyedTupleHash{key}) {}

template class BasicConnTable<KeyedTupleHash>;

}  // namespace vsd
